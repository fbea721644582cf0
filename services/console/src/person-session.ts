import type { IncomingMessage } from 'node:http';
import { AirlockError } from '@airlock/errors';
import { readCookies, type CookieNames } from './cookies.js';
import type { OidcSignIn } from './oidc.js';
import { sameSecret, type SignedIn, type SignIns } from './sign-ins.js';

/** Refresh this long before the presented token expires, so no call to the edge carries a token about to lapse. */
const refreshAheadMs = 60_000;

/** Finds the signed-in person of a request and keeps the token shown to the edge fresh. */
export class PersonSessions {
  constructor(
    private readonly signIns: SignIns,
    private readonly oidc: OidcSignIn,
    private readonly cookies: CookieNames,
    private readonly publicOrigin: string,
    private readonly now: () => number,
  ) {}

  /** The request's sign-in, or MissingAuthentication (the page then offers to sign in). */
  require(request: IncomingMessage): SignedIn {
    const signedIn = this.signIns.find(readCookies(request.headers.cookie).get(this.cookies.session));
    if (!signedIn) throw new AirlockError('MissingAuthentication', 'You are not signed in (or your sign-in has ended); sign in again.');
    return signedIn;
  }

  /**
   * A POST must come from this console's own page: it carries the sign-in's CSRF token in `x-csrf-token` (a header
   * no other site can set without a CORS preflight this server never allows) and, when the browser names one, this
   * console's Origin.
   */
  requireForChange(request: IncomingMessage): SignedIn {
    const signedIn = this.require(request);
    const origin = request.headers.origin;
    const token = request.headers['x-csrf-token'];
    if ((origin !== undefined && origin !== this.publicOrigin) || typeof token !== 'string' || !sameSecret(signedIn.csrfToken, token)) {
      throw new AirlockError('AccessDenied', 'This request did not come from the console page (CSRF check); reload the page and try again.');
    }
    return signedIn;
  }

  /** The token to show the edge as this person, refreshed first when it is close to expiry and a refresh token exists. */
  async token(signedIn: SignedIn): Promise<string> {
    const { tokens } = signedIn;
    if (tokens.presentedExpiresAtMs - this.now() > refreshAheadMs) return tokens.presented;
    if (!tokens.refreshToken) {
      if (tokens.presentedExpiresAtMs > this.now()) return tokens.presented;
      this.signIns.remove(signedIn.id);
      throw new AirlockError('MissingAuthentication', 'Your sign-in has expired; sign in again.');
    }
    signedIn.refreshing ??= this.oidc.refresh(tokens.refreshToken).finally(() => {
      signedIn.refreshing = undefined;
    });
    try {
      signedIn.tokens = await signedIn.refreshing;
    } catch (error) {
      // A token still valid keeps working until it lapses; after that the person signs in again.
      if (tokens.presentedExpiresAtMs > this.now()) return tokens.presented;
      this.signIns.remove(signedIn.id);
      throw new AirlockError('MissingAuthentication', 'Your sign-in has expired and could not be renewed; sign in again.', { cause: error });
    }
    return signedIn.tokens.presented;
  }
}
