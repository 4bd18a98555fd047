export interface ApiInfo {
  id: string;
  name: string;
  version: string;
  context: string;
  description?: string;
  provider?: string;
  tags?: string[];
  avgRating?: string | number;
  hasThumbnail?: boolean; // the API's detail
  thumbnailUri?: string | null; // the list's items (the reference's APIInfo)
  lifeCycleStatus?: string;
}

export interface ApiDetail extends ApiInfo {
  tiers: { tierName: string }[];
  endpointURLs: { environmentName: string; environmentDisplayName: string; URLs: { http: string; https: string } }[];
}

export interface Application {
  applicationId: string;
  name: string;
  throttlingPolicy: string;
  description?: string;
  subscriptionCount?: number;
}

export interface Subscription {
  subscriptionId: string;
  apiId: string;
  applicationId: string;
  throttlingPolicy: string;
  status: string;
  apiInfo?: ApiInfo;
}

export interface ApplicationKey {
  keyMappingId: string;
  consumerKey: string;
  consumerSecret: string | null;
  keyType: string;
  token?: { accessToken: string; validityTime: number };
}

// The last token generated in this tab, for the "try it" console.
export const TRY_IT_TOKEN = 'portico.tryit.token';
