import { join } from 'node:path';
import { Failure } from './errors.js';
import { withFileLock } from './file-lock.js';
import type { Fetch } from './http.js';
import { loadLogin, saveLogin, type StoredLogin } from './login-store.js';
import { OAuthError, refreshTokens, type TokenResponse } from './oidc.js';
import { needsRefresh, presentedToken, type PresentedToken } from './presented-token.js';

export interface CurrentToken extends PresentedToken {
  login: StoredLogin;
}

const notLoggedIn = 'not logged in: run airlock login --issuer URL --client-id ID';

/**
 * The token to show Airlock now: the stored one, refreshed first (once, under a lock) when it is close to expiry.
 * Fails with a message that says what to do when there is no login, or it expired and cannot be refreshed.
 */
export async function currentToken(dir: string, options: { fetch?: Fetch; now?: () => Date } = {}): Promise<CurrentToken> {
  const now = options.now ?? (() => new Date());
  const login = await loadLogin(dir);
  if (!login) throw new Failure(notLoggedIn);
  const presented = presentable(login);
  if (!needsRefresh(presented, now())) return { ...presented, login };

  return withFileLock(join(dir, 'refresh.lock'), async () => {
    // Another process may have refreshed while this one waited for the lock.
    const latest = (await loadLogin(dir)) ?? login;
    const candidate = presentable(latest);
    if (!needsRefresh(candidate, now())) return { ...candidate, login: latest };
    if (!latest.refreshToken) return usableUntilExpiry(candidate, latest, now(), 'the identity provider gave no refresh token');
    let answer: TokenResponse;
    try {
      answer = await refreshTokens(latest.tokenEndpoint, latest.clientId, latest.refreshToken, options.fetch);
    } catch (error) {
      if (error instanceof OAuthError && error.code === 'invalid_grant') {
        return usableUntilExpiry(candidate, latest, now(), 'the identity provider no longer accepts the refresh token');
      }
      throw error;
    }
    const refreshed = mergeTokens(latest, answer, now());
    await saveLogin(dir, refreshed);
    const fresh = presentable(refreshed);
    if (fresh.expiresAt.getTime() <= now().getTime()) {
      throw new Failure(`the identity provider refreshed the login but sent no new ${fresh.kind}: run airlock login`);
    }
    return { ...fresh, login: refreshed };
  });
}

/** A token response folded into a stored login; what the response omits (a rotated-out refresh token, say) is kept. */
export function mergeTokens(login: StoredLogin, answer: TokenResponse, now: Date): StoredLogin {
  const next: StoredLogin = { ...login, obtainedAt: now.toISOString() };
  if (answer.access_token) {
    next.accessToken = answer.access_token;
    if (typeof answer.expires_in === 'number') next.accessTokenExpiresAt = new Date(now.getTime() + answer.expires_in * 1000).toISOString();
    else delete next.accessTokenExpiresAt;
  }
  if (answer.id_token) next.idToken = answer.id_token;
  if (answer.refresh_token) next.refreshToken = answer.refresh_token;
  return next;
}

function presentable(login: StoredLogin): PresentedToken {
  const presented = presentedToken(login);
  if (!presented) {
    throw new Failure(
      `the stored login has no token Airlock can verify (no ID token, and no JWT access token for audience ${login.audience ?? '(none given)'}); run airlock login again`,
    );
  }
  return presented;
}

function usableUntilExpiry(token: PresentedToken, login: StoredLogin, now: Date, why: string): CurrentToken {
  if (token.expiresAt.getTime() > now.getTime()) return { ...token, login };
  throw new Failure(`your login has expired and ${why}: run airlock login`);
}
