import type { IncomingMessage, ServerResponse } from 'node:http';
import { loadOidcProvider, memoryAdapter, signInAndConsent, signingKey, startProviderServer, type Account } from './device-idp.js';

/**
 * A real OpenID Provider (the certified `oidc-provider` package) for people who sign in with a browser: the
 * authorization code flow with PKCE for one public client (a web app such as the console). Its sign-in page is a
 * plain form asking which test account to be (no password); submitting it signs that account in and grants the
 * scopes asked for, so a browser driven by a test goes through exactly the redirects and cookies a person's would.
 */
export interface BrowserIdp {
  /** `http://127.0.0.1:<port>` */
  issuer: string;
  clientId: string;
  stop(): Promise<void>;
}

export interface StartBrowserIdpOptions {
  clientId: string;
  /** Where the client may be sent back to, e.g. `http://127.0.0.1:4580/auth/callback`. */
  redirectUris: string[];
  accounts: Record<string, Account>;
}

export async function startBrowserIdp(options: StartBrowserIdpOptions): Promise<BrowserIdp> {
  const Provider = await loadOidcProvider();
  const server = await startProviderServer((request, response) => interact(request, response));
  const { issuer } = server;

  const provider = new Provider(issuer, {
    adapter: memoryAdapter(),
    jwks: { keys: [await signingKey('browser-idp-key')] },
    clients: [
      {
        client_id: options.clientId,
        token_endpoint_auth_method: 'none',
        grant_types: ['authorization_code', 'refresh_token'],
        response_types: ['code'],
        redirect_uris: options.redirectUris,
      },
    ],
    features: { devInteractions: { enabled: false } },
    scopes: ['openid', 'offline_access', 'profile', 'email'],
    claims: { openid: ['sub'], profile: ['name', 'groups'], email: ['email'] },
    // Put the scopes' claims in the ID token itself: it is the token Airlock is shown.
    conformIdTokenClaims: false,
    ttl: { IdToken: 3600, AccessToken: 3600, AuthorizationCode: 60, RefreshToken: 86_400, Grant: 86_400, Interaction: 600, Session: 3600 },
    findAccount: (_ctx: unknown, id: string) => {
      const account = options.accounts[id];
      return account ? { accountId: id, claims: () => ({ sub: id, ...account }) } : undefined;
    },
  });
  server.serve(provider.callback());

  /** GET: the sign-in form. POST: sign the named account in and grant what the client asked for. */
  async function interact(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const details = await provider.interactionDetails(request, response);
    if (request.method !== 'POST') {
      response.writeHead(200, { 'content-type': 'text/html; charset=utf-8' }).end(signInPage(details.uid));
      return;
    }
    let body = '';
    for await (const chunk of request) body += String(chunk);
    const accountId = new URLSearchParams(body).get('account') ?? '';
    if (!options.accounts[accountId]) {
      response.writeHead(400, { 'content-type': 'text/html; charset=utf-8' }).end(signInPage(details.uid, `No test account "${accountId.replace(/[^\w.@-]/g, '?')}".`));
      return;
    }
    await signInAndConsent(provider, request, response, details, accountId);
  }

  return {
    issuer,
    clientId: options.clientId,
    stop: () => server.stop(),
  };
}

function signInPage(uid: string, problem?: string): string {
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Test IdP sign-in</title></head><body>
<main><h1>Sign in to the test identity provider</h1>${problem ? `<p role="alert">${problem}</p>` : ''}
<form method="post" action="/interaction/${uid}"><label for="account">Account</label> <input id="account" name="account" autocomplete="username">
<button type="submit">Sign in</button></form></main></body></html>`;
}
