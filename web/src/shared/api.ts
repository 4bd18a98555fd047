// Calls to Portico's public REST APIs with the signed-in user's token. A failed call throws
// ApiCallError carrying the API's own error message, which the forms show as it is.
import { accessToken } from './auth';

export const PUBLISHER = '/api/am/publisher/v4';
export const DEVPORTAL = '/api/am/devportal/v3';
export const ADMIN = '/api/am/admin/v4';

export class ApiCallError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

// The reference's error shape is {code, message, description}; the OAuth endpoints answer
// {error, error_description}, SCIM {status, scimType, detail}.
export function errorMessage(status: number, body: unknown): string {
  if (body && typeof body === 'object') {
    const b = body as Record<string, unknown>;
    const parts = [b.message, b.description, b.error_description ?? b.error, b.detail].filter(
      (p): p is string => typeof p === 'string' && p.length > 0,
    );
    const unique = parts.filter((p, i) => parts.indexOf(p) === i);
    if (unique.length > 0) return unique.join(': ');
  }
  return `The request failed with status ${status}`;
}

export interface CallOptions {
  method?: string;
  body?: unknown; // JSON unless FormData
  query?: Record<string, string | number | undefined>;
  anonymous?: boolean;
  blob?: boolean; // answer the body as a Blob (an image) rather than JSON
}

export async function call<T = unknown>(path: string, options: CallOptions = {}): Promise<T> {
  const url = new URL(path, window.location.origin);
  for (const [k, v] of Object.entries(options.query ?? {}))
    if (v !== undefined && v !== '') url.searchParams.set(k, String(v));
  const headers: Record<string, string> = { Accept: 'application/json' };
  const token = options.anonymous ? null : accessToken();
  if (token) headers.Authorization = `Bearer ${token}`;
  let body: BodyInit | undefined;
  if (options.body instanceof FormData) body = options.body;
  else if (options.body !== undefined) {
    headers['Content-Type'] = 'application/json';
    body = JSON.stringify(options.body);
  }
  let response: Response;
  try {
    response = await fetch(url, { method: options.method ?? 'GET', headers, body });
  } catch {
    throw new ApiCallError(0, 'The server could not be reached');
  }
  if (options.blob && response.ok) return (await response.blob()) as T;
  const text = await response.text();
  let parsed: unknown = undefined;
  try {
    parsed = text ? JSON.parse(text) : undefined;
  } catch {
    parsed = text;
  }
  if (!response.ok) throw new ApiCallError(response.status, errorMessage(response.status, parsed));
  return parsed as T;
}

export interface Page<T> {
  count: number;
  list: T[];
}
