import { cacheCredentials, cachedCredentials, type CacheKey } from './credential-cache.js';
import { currentToken } from './current-token.js';
import type { Fetch } from './http.js';
import { displayName } from './jwt.js';
import { assumeRoleWithWebIdentity, roleSessionName, type SessionCredentials } from './sts.js';

export interface RoleCredentialsRequest {
  dir: string;
  endpoint: string;
  roleArn: string;
  durationSeconds?: number;
  /** Leave cached credentials aside and buy new ones. */
  fresh?: boolean;
  fetch?: Fetch;
  now?: () => Date;
}

/**
 * Airlock session credentials for a role: from the cache while they have more than five minutes left, else bought
 * with the current (refreshed if need be) token and cached.
 */
export async function roleCredentials(request: RoleCredentialsRequest): Promise<SessionCredentials> {
  const now = request.now ?? (() => new Date());
  const token = await currentToken(request.dir, { fetch: request.fetch, now });
  const key: CacheKey = {
    issuer: token.claims.iss ?? token.login.issuer,
    subject: token.claims.sub ?? '',
    endpoint: request.endpoint,
    roleArn: request.roleArn,
    durationSeconds: request.durationSeconds,
  };
  const cached = request.fresh ? undefined : await cachedCredentials(request.dir, key, now());
  if (cached) return cached;
  const credentials = await assumeRoleWithWebIdentity(
    {
      endpoint: request.endpoint,
      roleArn: request.roleArn,
      token: token.token,
      sessionName: roleSessionName(displayName(token.claims)),
      durationSeconds: request.durationSeconds,
    },
    request.fetch,
  );
  await cacheCredentials(request.dir, key, credentials);
  return credentials;
}
