import { audiences, readClaims, type UnverifiedClaims } from './jwt.js';
import type { StoredLogin } from './login-store.js';

export interface PresentedToken {
  token: string;
  kind: 'access token' | 'ID token';
  claims: UnverifiedClaims;
  /** When the token expires, from its `exp` claim. */
  expiresAt: Date;
  /** When it was issued (`iat`, else when it was obtained), to judge how much of its life is left. */
  issuedAt: Date;
}

/**
 * The token Airlock is shown. Airlock verifies JWTs only, against an audience it is configured with. An access token is
 * presented when it is a JWT whose `aud` names the audience asked for at login (`--audience`); otherwise the ID token,
 * whose audience is the client id. Opaque access tokens, and JWT access tokens for other audiences (userinfo, the IdP's
 * own API), are never sent to Airlock.
 */
export function presentedToken(login: StoredLogin): PresentedToken | undefined {
  const accessClaims = readClaims(login.accessToken);
  if (login.accessToken && login.audience && accessClaims && audiences(accessClaims).includes(login.audience)) {
    return withTimes(login.accessToken, 'access token', accessClaims, login);
  }
  const idClaims = readClaims(login.idToken);
  if (login.idToken && idClaims) return withTimes(login.idToken, 'ID token', idClaims, login);
  return undefined;
}

function withTimes(token: string, kind: PresentedToken['kind'], claims: UnverifiedClaims, login: StoredLogin): PresentedToken {
  const obtainedAt = new Date(login.obtainedAt);
  const expiresAt =
    typeof claims.exp === 'number'
      ? new Date(claims.exp * 1000)
      : kind === 'access token' && login.accessTokenExpiresAt
        ? new Date(login.accessTokenExpiresAt)
        : obtainedAt;
  const issuedAt = typeof claims.iat === 'number' ? new Date(claims.iat * 1000) : obtainedAt;
  return { token, kind, claims, expiresAt, issuedAt };
}

/** Refresh ahead of expiry by five minutes, or by half the token's life when it lives less than ten minutes. */
export const REFRESH_MARGIN_MS = 5 * 60 * 1000;

/** Whether a token is close enough to its expiry (or past it) that it should be refreshed before use. */
export function needsRefresh(token: Pick<PresentedToken, 'expiresAt' | 'issuedAt'>, now: Date): boolean {
  const lifetime = Math.max(0, token.expiresAt.getTime() - token.issuedAt.getTime());
  const margin = Math.min(REFRESH_MARGIN_MS, lifetime / 2);
  return token.expiresAt.getTime() - now.getTime() <= margin;
}
