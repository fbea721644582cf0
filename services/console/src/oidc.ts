import * as oidc from 'openid-client';
import { decodeJwt } from 'jose';
import { AirlockError } from '@airlock/errors';

export interface OidcSettings {
  issuer: string;
  clientId: string;
  /** Absent: a public client, protected by PKCE alone. */
  clientSecret?: string;
  scope: string;
  /** Present the access token for this audience (RFC 8707 resource) instead of the ID token. */
  audience?: string;
  /** `<publicUrl>/auth/callback` */
  redirectUri: string;
}

/** What a sign-in in progress must remember until the IdP sends the browser back. */
export interface AuthorizationStart {
  url: URL;
  state: string;
  nonce: string;
  codeVerifier: string;
}

/** The token shown to the edge as the person, and what keeps it fresh. */
export interface PersonTokens {
  /** A JWT the edge verifies: the ID token, or the access token for `audience`. */
  presented: string;
  presentedExpiresAtMs: number;
  refreshToken?: string;
}

/**
 * Sign-in at the people's OpenID Provider with the authorization code flow and PKCE (S256), a state and a nonce, through
 * openid-client (discovery, token endpoint, ID token claim checks). Plain-HTTP issuers are accepted only on loopback
 * addresses, for a laptop or a test.
 */
export class OidcSignIn {
  private configuration: Promise<oidc.Configuration> | undefined;

  constructor(private readonly settings: OidcSettings) {}

  async start(): Promise<AuthorizationStart> {
    const configuration = await this.discover();
    const codeVerifier = oidc.randomPKCECodeVerifier();
    const state = oidc.randomState();
    const nonce = oidc.randomNonce();
    const parameters: Record<string, string> = {
      redirect_uri: this.settings.redirectUri,
      scope: this.settings.scope,
      code_challenge: await oidc.calculatePKCECodeChallenge(codeVerifier),
      code_challenge_method: 'S256',
      state,
      nonce,
    };
    if (this.settings.audience) parameters.resource = this.settings.audience;
    return { url: oidc.buildAuthorizationUrl(configuration, parameters), state, nonce, codeVerifier };
  }

  /** Exchanges the code the browser brought back; checks state, PKCE and the ID token's claims and nonce. */
  async finish(callbackUrl: URL, started: AuthorizationStart): Promise<PersonTokens> {
    const configuration = await this.discover();
    try {
      const tokens = await oidc.authorizationCodeGrant(
        configuration,
        callbackUrl,
        { pkceCodeVerifier: started.codeVerifier, expectedState: started.state, expectedNonce: started.nonce, idTokenExpected: true },
        this.settings.audience ? { resource: this.settings.audience } : undefined,
      );
      return this.personTokens(tokens);
    } catch (error) {
      throw signInFailed(error);
    }
  }

  async refresh(refreshToken: string): Promise<PersonTokens> {
    const configuration = await this.discover();
    try {
      const tokens = await oidc.refreshTokenGrant(configuration, refreshToken, this.settings.audience ? { resource: this.settings.audience } : undefined);
      // A provider may keep the refresh token it had (no rotation): the old one stays valid then.
      return this.personTokens(tokens, refreshToken);
    } catch (error) {
      throw signInFailed(error);
    }
  }

  private personTokens(tokens: oidc.TokenEndpointResponse, previousRefreshToken?: string): PersonTokens {
    const presented = this.settings.audience ? tokens.access_token : tokens.id_token;
    const what = this.settings.audience ? `a JWT access token for audience ${this.settings.audience}` : 'an ID token';
    if (!presented) throw new AirlockError('InvalidIdentityToken', `The identity provider answered without ${what}.`);
    let claims: ReturnType<typeof decodeJwt>;
    try {
      claims = decodeJwt(presented);
    } catch {
      throw new AirlockError('InvalidIdentityToken', `The identity provider's answer holds no JWT where ${what} was expected.`);
    }
    if (this.settings.audience && ![claims.aud ?? []].flat().includes(this.settings.audience)) {
      throw new AirlockError('InvalidIdentityToken', `The access token is not for audience ${this.settings.audience}; is the resource indicator (RFC 8707) enabled?`);
    }
    if (typeof claims.exp !== 'number') throw new AirlockError('InvalidIdentityToken', `The identity provider's token has no expiry (exp).`);
    const refreshToken = tokens.refresh_token ?? previousRefreshToken;
    return { presented, presentedExpiresAtMs: claims.exp * 1000, ...(refreshToken ? { refreshToken } : {}) };
  }

  /** Discovery once; a failure is not remembered, so the next sign-in tries again. */
  private discover(): Promise<oidc.Configuration> {
    this.configuration ??= (async () => {
      const issuer = new URL(this.settings.issuer);
      const clientAuth = this.settings.clientSecret ? oidc.ClientSecretPost(this.settings.clientSecret) : oidc.None();
      try {
        return await oidc.discovery(issuer, this.settings.clientId, undefined, clientAuth, {
          ...(issuer.protocol === 'http:' && isLoopback(issuer.hostname) ? { execute: [oidc.allowInsecureRequests] } : {}),
          timeout: 10,
        });
      } catch (error) {
        this.configuration = undefined;
        throw new AirlockError('IdpUnreachable', `The identity provider ${this.settings.issuer} cannot be reached (discovery failed); try again.`, { cause: error });
      }
    })();
    return this.configuration;
  }
}

function isLoopback(hostname: string): boolean {
  return hostname === 'localhost' || hostname === '[::1]' || /^127\.\d+\.\d+\.\d+$/.test(hostname);
}

/** The provider's own error (access_denied, invalid_grant…) is safe to show; anything else is named generically. */
function signInFailed(error: unknown): AirlockError {
  if (error instanceof AirlockError) return error;
  if (error instanceof oidc.AuthorizationResponseError || error instanceof oidc.ResponseBodyError) {
    const description = error.error_description ? `: ${error.error_description}` : '';
    return new AirlockError('InvalidIdentityToken', `The identity provider refused the sign-in (${error.error}${description}).`, { cause: error });
  }
  return new AirlockError('InvalidIdentityToken', 'The sign-in could not be completed; start again.', { cause: error });
}
