/** The claims of a JWT, read without verifying anything: the command line only uses them to choose and to display. */
export interface UnverifiedClaims {
  iss?: string;
  sub?: string;
  aud?: string | string[];
  exp?: number;
  iat?: number;
  name?: string;
  email?: string;
  preferred_username?: string;
}

/** Undefined when the text is not a JWS in compact form (an opaque access token, for instance). */
export function readClaims(token: string | undefined): UnverifiedClaims | undefined {
  if (!token) return undefined;
  const parts = token.split('.');
  if (parts.length !== 3 || !parts[1]) return undefined;
  try {
    const claims: unknown = JSON.parse(Buffer.from(parts[1], 'base64url').toString('utf8'));
    return claims !== null && typeof claims === 'object' && !Array.isArray(claims) ? (claims as UnverifiedClaims) : undefined;
  } catch {
    return undefined;
  }
}

export function audiences(claims: UnverifiedClaims): string[] {
  if (typeof claims.aud === 'string') return [claims.aud];
  return Array.isArray(claims.aud) ? claims.aud.filter((value) => typeof value === 'string') : [];
}

/** Who a token names, for messages: email, then name, then preferred username, then subject. */
export function displayName(claims: UnverifiedClaims | undefined): string {
  return claims?.email ?? claims?.name ?? claims?.preferred_username ?? claims?.sub ?? 'unknown';
}
