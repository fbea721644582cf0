import { Failure } from './errors.js';
import { httpFetch, isRecord, joinUrl, jsonBody, send, type Fetch } from './http.js';

/** @default "openid profile email offline_access" — an ID token with the person's name and email, and a refresh token. */
export const defaultScope = 'openid profile email offline_access';

export interface IssuerEndpoints {
  tokenEndpoint: string;
  deviceAuthorizationEndpoint: string;
}

/** OpenID Connect Discovery 1.0: the issuer's metadata names its endpoints; its `issuer` must be the one asked for. */
export async function discover(issuer: string, fetchImpl: Fetch = httpFetch): Promise<IssuerEndpoints> {
  const url = joinUrl(issuer, '/.well-known/openid-configuration');
  const response = await send(fetchImpl, url, { headers: { accept: 'application/json' } }, 'the identity provider');
  const metadata = await jsonBody(response);
  if (!response.ok || !isRecord(metadata)) throw new Failure(`the identity provider has no OpenID configuration at ${url} (HTTP ${response.status})`);
  // Issuers differ in a trailing slash (Auth0 has one); a person typing the URL should not have to know which.
  const bare = (value: string) => value.replace(/\/+$/, '');
  if (typeof metadata.issuer !== 'string' || bare(metadata.issuer) !== bare(issuer)) {
    throw new Failure(`the identity provider at ${url} calls itself ${JSON.stringify(metadata.issuer)}, not ${issuer}`);
  }
  const { token_endpoint: tokenEndpoint, device_authorization_endpoint: deviceAuthorizationEndpoint } = metadata;
  if (typeof tokenEndpoint !== 'string') throw new Failure(`the identity provider ${issuer} publishes no token endpoint`);
  if (typeof deviceAuthorizationEndpoint !== 'string') {
    throw new Failure(`the identity provider ${issuer} does not offer the device authorization grant (no device_authorization_endpoint)`);
  }
  return { tokenEndpoint, deviceAuthorizationEndpoint };
}

/** An OAuth error answer (RFC 6749 §5.2), kept apart so the device flow can tell `authorization_pending` from a refusal. */
export class OAuthError extends Failure {
  constructor(
    readonly code: string,
    description: string | undefined,
  ) {
    super(description ? `${code}: ${description}` : code);
  }
}

export interface TokenResponse {
  access_token?: string;
  id_token?: string;
  refresh_token?: string;
  expires_in?: number;
  token_type?: string;
  scope?: string;
}

/** POSTs a form to an OAuth endpoint; JSON on success, OAuthError on an OAuth error answer. */
export async function postForm(endpoint: string, form: Record<string, string | undefined>, fetchImpl: Fetch = httpFetch): Promise<Record<string, unknown>> {
  const body = new URLSearchParams();
  for (const [key, value] of Object.entries(form)) if (value !== undefined) body.set(key, value);
  const response = await send(
    fetchImpl,
    endpoint,
    { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' }, body: body.toString() },
    'the identity provider',
  );
  const answer = await jsonBody(response);
  if (isRecord(answer) && typeof answer.error === 'string') {
    throw new OAuthError(answer.error, typeof answer.error_description === 'string' ? answer.error_description : undefined);
  }
  if (!response.ok || !isRecord(answer)) throw new Failure(`the identity provider answered HTTP ${response.status} at ${endpoint}`);
  return answer;
}

export async function refreshTokens(tokenEndpoint: string, clientId: string, refreshToken: string, fetchImpl: Fetch = httpFetch): Promise<TokenResponse> {
  return (await postForm(tokenEndpoint, { grant_type: 'refresh_token', refresh_token: refreshToken, client_id: clientId }, fetchImpl)) as TokenResponse;
}
