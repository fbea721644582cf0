/** The cookies of a request, by name; the first of repeated names wins. */
export function readCookies(header: string | undefined): Map<string, string> {
  const cookies = new Map<string, string>();
  for (const part of (header ?? '').split(';')) {
    const at = part.indexOf('=');
    if (at <= 0) continue;
    const name = part.slice(0, at).trim();
    if (!cookies.has(name)) cookies.set(name, part.slice(at + 1).trim());
  }
  return cookies;
}

export interface CookieNames {
  /** The signed-in session. */
  session: string;
  /** Binds a sign-in in progress to the browser that started it. */
  signIn: string;
  secure: boolean;
}

/**
 * Over HTTPS the names carry the `__Host-` prefix, which browsers accept only with Secure, Path=/ and no Domain: no
 * sibling host can plant or overwrite them. Plain HTTP (a laptop, a test) gets the bare names.
 */
export function cookieNames(publicUrl: URL): CookieNames {
  const secure = publicUrl.protocol === 'https:';
  const prefix = secure ? '__Host-' : '';
  return { session: `${prefix}airlock-console`, signIn: `${prefix}airlock-console-sign-in`, secure };
}

/**
 * HttpOnly (scripts never see it) and SameSite=Lax: sent on the top-level navigation back from the IdP, never on
 * cross-site sub-requests. Lax still lets a cross-site top-level GET through, so nothing that changes state is a GET,
 * and every POST also needs the CSRF header (see console.ts).
 */
export function setCookie(name: string, value: string, maxAgeSeconds: number, secure: boolean): string {
  return `${name}=${value}; Path=/; HttpOnly; SameSite=Lax; Max-Age=${Math.max(0, Math.floor(maxAgeSeconds))}${secure ? '; Secure' : ''}`;
}

export function clearCookie(name: string, secure: boolean): string {
  return setCookie(name, '', 0, secure);
}
