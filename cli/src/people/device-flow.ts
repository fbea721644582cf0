import { Failure } from './errors.js';
import { httpFetch, type Fetch } from './http.js';
import { OAuthError, postForm, type TokenResponse } from './oidc.js';

/** The device authorization response (RFC 8628 §3.2). */
export interface DeviceAuthorization {
  deviceCode: string;
  userCode: string;
  verificationUri: string;
  verificationUriComplete?: string;
  expiresInSeconds: number;
  /** Seconds between polls; 5 when the server names none (RFC 8628 §3.2). */
  intervalSeconds: number;
}

const DEVICE_CODE_GRANT = 'urn:ietf:params:oauth:grant-type:device_code';

export interface DeviceRequest {
  endpoint: string;
  clientId: string;
  scope: string;
  /**
   * Sent as `audience` (the parameter Auth0 and others read) and, when it is an absolute URI, as `resource` too
   * (RFC 8707, which oidc-provider and others read). Providers ignore the parameter they do not know.
   */
  audience?: string;
}

export async function startDeviceAuthorization(request: DeviceRequest, fetchImpl: Fetch = httpFetch): Promise<DeviceAuthorization> {
  const answer = await postForm(
    request.endpoint,
    {
      client_id: request.clientId,
      scope: request.scope,
      audience: request.audience,
      resource: request.audience && isAbsoluteUri(request.audience) ? request.audience : undefined,
    },
    fetchImpl,
  );
  const { device_code, user_code, verification_uri, verification_uri_complete, expires_in, interval } = answer;
  if (typeof device_code !== 'string' || typeof user_code !== 'string' || typeof verification_uri !== 'string') {
    throw new Failure('the identity provider answered the device authorization request without a device code, user code or verification URI');
  }
  return {
    deviceCode: device_code,
    userCode: user_code,
    verificationUri: verification_uri,
    ...(typeof verification_uri_complete === 'string' ? { verificationUriComplete: verification_uri_complete } : {}),
    expiresInSeconds: typeof expires_in === 'number' && expires_in > 0 ? expires_in : 600,
    intervalSeconds: typeof interval === 'number' && interval > 0 ? interval : 5,
  };
}

export interface PollOptions {
  tokenEndpoint: string;
  clientId: string;
  fetch?: Fetch;
  sleep?: (ms: number) => Promise<void>;
  now?: () => number;
}

/**
 * Polls the token endpoint until the person approves or refuses, or the code expires (RFC 8628 §3.4-3.5): waits
 * `interval` seconds between requests, and five seconds more each time the server answers `slow_down`.
 */
export async function pollForTokens(authorization: DeviceAuthorization, options: PollOptions): Promise<TokenResponse> {
  const sleep = options.sleep ?? ((ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms)));
  const now = options.now ?? Date.now;
  const deadline = now() + authorization.expiresInSeconds * 1000;
  let intervalSeconds = authorization.intervalSeconds;
  for (;;) {
    await sleep(intervalSeconds * 1000);
    if (now() > deadline) throw new Failure('the code expired before it was approved; run airlock login again');
    try {
      return (await postForm(
        options.tokenEndpoint,
        { grant_type: DEVICE_CODE_GRANT, device_code: authorization.deviceCode, client_id: options.clientId },
        options.fetch,
      )) as TokenResponse;
    } catch (error) {
      if (!(error instanceof OAuthError)) throw error;
      if (error.code === 'authorization_pending') continue;
      if (error.code === 'slow_down') {
        intervalSeconds += 5;
        continue;
      }
      if (error.code === 'access_denied') throw new Failure('the sign-in was refused at the identity provider');
      if (error.code === 'expired_token') throw new Failure('the code expired before it was approved; run airlock login again');
      throw new Failure(`the identity provider refused the login: ${error.message}`);
    }
  }
}

function isAbsoluteUri(value: string): boolean {
  return /^[a-z][a-z0-9+.-]*:/i.test(value);
}
