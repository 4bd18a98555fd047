// The publisher's API document (PUT /apis/{apiId}) and the shapes its editing forms work on:
// each form edits a plain model and turns it back into the reference's fields here, so that
// the conversions are tested apart from the pages.

export type Api = Record<string, unknown> & {
  id: string;
  name: string;
  version: string;
  context: string;
  lifeCycleStatus: string;
  lastUpdatedTime?: string;
  hasThumbnail?: boolean;
};

// ---- Endpoints

export type EndpointType = 'http' | 'load_balance' | 'failover';

export interface EndpointForm {
  type: EndpointType;
  production: string[];
  sandbox: string[];
}

type Endpoint = { url: string; config?: unknown };

function urlsOf(value: unknown): string[] {
  const list = Array.isArray(value) ? value : value ? [value] : [];
  return list.map((e) => String((e as Endpoint)?.url ?? '')).filter(Boolean);
}

// For failover the first URL is the primary endpoint and the others its failovers, in order.
export function endpointForm(config: unknown): EndpointForm {
  const c = (config ?? {}) as Record<string, unknown>;
  const type = (['http', 'load_balance', 'failover'].includes(String(c.endpoint_type)) ? c.endpoint_type : 'http') as EndpointType;
  const production = urlsOf(c.production_endpoints);
  const sandbox = urlsOf(c.sandbox_endpoints);
  if (type === 'failover') {
    production.push(...urlsOf(c.production_failovers));
    sandbox.push(...urlsOf(c.sandbox_failovers));
  }
  return { type, production, sandbox };
}

// The advanced configuration (timeouts, suspension) each endpoint had, kept by URL.
function configsByUrl(config: unknown): Map<string, unknown> {
  const c = (config ?? {}) as Record<string, unknown>;
  const map = new Map<string, unknown>();
  for (const key of ['production_endpoints', 'sandbox_endpoints', 'production_failovers', 'sandbox_failovers']) {
    const v = c[key];
    for (const e of Array.isArray(v) ? v : v ? [v] : []) {
      const endpoint = e as Endpoint;
      if (endpoint?.url && endpoint.config !== undefined) map.set(endpoint.url, endpoint.config);
    }
  }
  return map;
}

export function endpointConfig(form: EndpointForm, previous?: unknown): Record<string, unknown> {
  const configs = configsByUrl(previous);
  const endpoint = (url: string): Endpoint => (configs.has(url) ? { url, config: configs.get(url) } : { url });
  const clean = (urls: string[]) => urls.map((u) => u.trim()).filter(Boolean);
  const out: Record<string, unknown> = { endpoint_type: form.type };
  const previousConfig = (previous ?? {}) as Record<string, unknown>;
  for (const [env, urls] of [
    ['production', clean(form.production)],
    ['sandbox', clean(form.sandbox)],
  ] as const) {
    if (urls.length === 0) continue;
    if (form.type === 'http') out[`${env}_endpoints`] = endpoint(urls[0]);
    else if (form.type === 'load_balance') out[`${env}_endpoints`] = urls.map(endpoint);
    else {
      out[`${env}_endpoints`] = endpoint(urls[0]);
      out[`${env}_failovers`] = urls.slice(1).map(endpoint);
    }
  }
  if (form.type === 'load_balance')
    for (const key of ['algoCombination', 'algoClassName', 'sessionManagement', 'sessionTimeOut'])
      if (previousConfig.endpoint_type === 'load_balance' && previousConfig[key] !== undefined) out[key] = previousConfig[key];
  return out;
}

// What the form would be refused for, before asking the API (which checks again).
export function endpointProblems(form: EndpointForm): string[] {
  const problems: string[] = [];
  const all = [...form.production, ...form.sandbox].map((u) => u.trim()).filter(Boolean);
  if (all.length === 0) problems.push('Give a production or a sandbox endpoint.');
  for (const url of all)
    if (!/^https?:\/\/[^\s/]+/i.test(url)) problems.push(`${url} is not an http:// or https:// URL.`);
  if (form.type === 'http')
    for (const [env, urls] of [
      ['production', form.production],
      ['sandbox', form.sandbox],
    ] as const)
      if (urls.filter((u) => u.trim()).length > 1) problems.push(`A single endpoint takes one ${env} URL.`);
  return problems;
}

// ---- Operations and their policies

export const VERBS = ['GET', 'POST', 'PUT', 'DELETE', 'PATCH', 'HEAD', 'OPTIONS'] as const;
export const SECURED = 'Application & Application User';
export const UNSECURED = 'None';

export interface HeaderPolicy {
  policyName: 'addHeader' | 'removeHeader';
  headerName: string;
  headerValue: string;
}

export interface Operation {
  target: string;
  verb: string;
  authType: string;
  throttlingPolicy: string;
  scopes: string[];
  request: HeaderPolicy[];
  response: HeaderPolicy[];
  // Fields the form does not edit, sent back as they came.
  rest: Record<string, unknown>;
}

interface StoredPolicy {
  policyName: string;
  policyVersion?: string;
  parameters?: Record<string, unknown>;
}

function policiesOf(list: unknown): HeaderPolicy[] {
  return (Array.isArray(list) ? (list as StoredPolicy[]) : [])
    .filter((p) => p.policyName === 'addHeader' || p.policyName === 'removeHeader')
    .map((p) => ({
      policyName: p.policyName as HeaderPolicy['policyName'],
      headerName: String(p.parameters?.headerName ?? ''),
      headerValue: String(p.parameters?.headerValue ?? ''),
    }));
}

function storedPolicies(list: HeaderPolicy[]): StoredPolicy[] {
  return list.map((p) => ({
    policyName: p.policyName,
    policyVersion: 'v1',
    parameters: p.policyName === 'addHeader' ? { headerName: p.headerName.trim(), headerValue: p.headerValue } : { headerName: p.headerName.trim() },
  }));
}

export function operationsOf(api: Api): Operation[] {
  return ((api.operations as Record<string, unknown>[]) ?? []).map((o) => {
    const { target, verb, authType, throttlingPolicy, scopes, operationPolicies, ...rest } = o;
    const policies = (operationPolicies ?? {}) as Record<string, unknown>;
    return {
      target: String(target ?? ''),
      verb: String(verb ?? 'GET'),
      authType: String(authType ?? SECURED),
      throttlingPolicy: String(throttlingPolicy ?? 'Unlimited'),
      scopes: (scopes as string[]) ?? [],
      request: policiesOf(policies.request),
      response: policiesOf(policies.response),
      rest,
    };
  });
}

export function storedOperations(operations: Operation[]): Record<string, unknown>[] {
  return operations.map((o) => ({
    ...o.rest,
    target: o.target.trim(),
    verb: o.verb,
    authType: o.authType,
    throttlingPolicy: o.throttlingPolicy,
    scopes: o.scopes,
    operationPolicies: { request: storedPolicies(o.request), response: storedPolicies(o.response), fault: [] },
  }));
}

export function operationProblems(operations: Operation[]): string[] {
  const problems: string[] = [];
  const seen = new Set<string>();
  for (const o of operations) {
    const name = `${o.verb} ${o.target || '(no path)'}`;
    if (!o.target.trim().startsWith('/')) problems.push(`${name}: the path must start with /.`);
    if (seen.has(`${o.verb} ${o.target.trim()}`)) problems.push(`${name} is listed twice.`);
    seen.add(`${o.verb} ${o.target.trim()}`);
    for (const p of [...o.request, ...o.response]) {
      if (!/^[A-Za-z0-9._-]{1,128}$/.test(p.headerName.trim()))
        problems.push(`${name}: "${p.headerName}" is not a header name (letters, digits, - _ .).`);
      if (p.policyName === 'addHeader' && p.headerValue.length === 0) problems.push(`${name}: the header ${p.headerName} needs a value.`);
    }
  }
  return problems;
}

// ---- Scopes

export interface Scope {
  name: string;
  displayName: string;
  description: string;
  bindings: string[];
  shared: boolean;
}

export function scopesOf(api: Api): Scope[] {
  return ((api.scopes as { scope?: Record<string, unknown>; shared?: boolean }[]) ?? []).map((s) => ({
    name: String(s.scope?.name ?? ''),
    displayName: String(s.scope?.displayName ?? ''),
    description: String(s.scope?.description ?? ''),
    bindings: (s.scope?.bindings as string[]) ?? [],
    shared: Boolean(s.shared),
  }));
}

export function storedScopes(scopes: Scope[]): Record<string, unknown>[] {
  return scopes.map((s) => ({
    scope: { name: s.name.trim(), displayName: s.displayName.trim() || s.name.trim(), description: s.description, bindings: s.bindings },
    shared: s.shared,
  }));
}

// A scope that goes also leaves the operations that required it.
export function withoutScope(operations: Record<string, unknown>[], name: string): Record<string, unknown>[] {
  return operations.map((o) => ({ ...o, scopes: ((o.scopes as string[]) ?? []).filter((s) => s !== name) }));
}

// ---- Security schemes

export const SCHEMES = [
  { value: 'oauth2', label: 'OAuth 2.0 tokens' },
  { value: 'api_key', label: 'API keys' },
  { value: 'basic_auth', label: 'Basic authentication' },
] as const;
export const SCHEMES_MANDATORY = 'oauth_basic_auth_api_key_mandatory';
