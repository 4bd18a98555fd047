// Sign-in with OAuth 2.0 authorization code + PKCE (RFC 7636, S256) against the node's own
// /oauth2/authorize and /oauth2/token, as the portal's public client. The token lives in
// sessionStorage (one tab, gone with it); sign-out revokes it at /oauth2/revoke.

export type Portal = 'publisher' | 'devportal' | 'admin';

const SCOPES: Record<Portal, string> = {
  publisher:
    'openid apim:api_view apim:api_create apim:api_manage apim:api_delete apim:api_publish ' +
    'apim:api_definition_view apim:api_list_view apim:document_create apim:document_manage ' +
    'apim:subscription_view apim:subscription_block apim:subscription_manage apim:tier_view ' +
    'apim:environment_read apim:publisher_settings apim:api_import_export',
  devportal:
    'openid apim:subscribe apim:app_manage apim:sub_manage apim:api_key apim:store_settings',
  admin:
    'openid apim:admin apim:tier_view apim:tier_manage apim:bl_view apim:bl_manage ' +
    'apim:environment_manage apim:environment_read apim:admin_settings apim:admin_operations',
};

// Per portal: the three share an origin, hence a tab's sessionStorage, but not their tokens.
function tokenKey(): string {
  return `portico.token.${window.location.pathname.split('/')[1]}`;
}
const PENDING = 'portico.pending';

interface StoredToken {
  access_token: string;
  expires_at: number;
  username: string;
  scope: string;
}

export function clientId(portal: Portal): string {
  return `portico-${portal}`;
}

export function redirectUri(portal: Portal): string {
  return `${window.location.origin}/${portal}/callback`;
}

function base64url(bytes: Uint8Array): string {
  let s = '';
  bytes.forEach((b) => (s += String.fromCharCode(b)));
  return btoa(s).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
}

function randomString(): string {
  return base64url(crypto.getRandomValues(new Uint8Array(32)));
}

export async function codeChallenge(verifier: string): Promise<string> {
  const digest = await crypto.subtle.digest('SHA-256', new TextEncoder().encode(verifier));
  return base64url(new Uint8Array(digest));
}

function stored(): StoredToken | null {
  const raw = sessionStorage.getItem(tokenKey());
  if (!raw) return null;
  try {
    const token = JSON.parse(raw) as StoredToken;
    if (token.expires_at <= Date.now()) {
      sessionStorage.removeItem(tokenKey());
      return null;
    }
    return token;
  } catch {
    return null;
  }
}

export function accessToken(): string | null {
  return stored()?.access_token ?? null;
}

export function signedInUser(): { username: string; scopes: string[] } | null {
  const t = stored();
  return t ? { username: t.username, scopes: t.scope.split(' ') } : null;
}

// Leaves the page for the node's sign-in page; comes back to /<portal>/callback.
export async function signIn(portal: Portal, returnTo: string): Promise<void> {
  const verifier = randomString();
  const state = randomString();
  sessionStorage.setItem(PENDING, JSON.stringify({ verifier, state, returnTo }));
  const params = new URLSearchParams({
    response_type: 'code',
    client_id: clientId(portal),
    redirect_uri: redirectUri(portal),
    scope: SCOPES[portal],
    state,
    code_challenge: await codeChallenge(verifier),
    code_challenge_method: 'S256',
  });
  window.location.assign(`/oauth2/authorize?${params}`);
}

function jwtSubject(token: string): string {
  try {
    const payload = JSON.parse(atob(token.split('.')[1].replace(/-/g, '+').replace(/_/g, '/')));
    return String(payload.sub ?? '');
  } catch {
    return '';
  }
}

// Redeems the code the node sent back; returns where the user was going.
export async function completeSignIn(portal: Portal, search: string): Promise<string> {
  const params = new URLSearchParams(search);
  const pending = JSON.parse(sessionStorage.getItem(PENDING) ?? 'null') as {
    verifier: string;
    state: string;
    returnTo: string;
  } | null;
  sessionStorage.removeItem(PENDING);
  if (params.get('error'))
    throw new Error(params.get('error_description') ?? params.get('error') ?? 'sign-in failed');
  if (!pending || pending.state !== params.get('state'))
    throw new Error('This sign-in was not started here; start again.');
  const response = await fetch('/oauth2/token', {
    method: 'POST',
    headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({
      grant_type: 'authorization_code',
      code: params.get('code') ?? '',
      redirect_uri: redirectUri(portal),
      client_id: clientId(portal),
      code_verifier: pending.verifier,
    }),
  });
  const body = await response.json();
  if (!response.ok) throw new Error(body.error_description ?? body.error ?? 'sign-in failed');
  const token: StoredToken = {
    access_token: body.access_token,
    expires_at: Date.now() + (body.expires_in ?? 3600) * 1000,
    username: jwtSubject(body.access_token),
    scope: body.scope ?? '',
  };
  sessionStorage.setItem(tokenKey(), JSON.stringify(token));
  return pending.returnTo || `/${portal}/`;
}

export async function signOut(portal: Portal): Promise<void> {
  const token = accessToken();
  sessionStorage.removeItem(tokenKey());
  if (!token) return;
  await fetch('/oauth2/revoke', {
    method: 'POST',
    headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ token, client_id: clientId(portal) }),
  }).catch(() => undefined);
}
