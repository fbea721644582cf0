import { once } from 'node:events';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { exportJWK, generateKeyPair } from 'jose';

/**
 * A real OpenID Provider (the certified `oidc-provider` package) with the OAuth 2.0 device authorization grant
 * (RFC 8628), for `airlock login`. One public client (no secret) may use the device code and refresh token grants.
 * The person's side of the flow (opening the verification page, entering the code, signing in, consenting) is driven
 * by `approve` with plain HTTP requests, as a browser would, through the provider's own device pages; the sign-in and
 * consent prompts are answered with the provider's interaction API for the account the test names.
 */
export interface DeviceIdp {
  /** `http://127.0.0.1:<port>`; discovery is at `${issuer}/.well-known/openid-configuration`. */
  issuer: string;
  clientId: string;
  /** Signs `account` in and approves the login waiting on `userCode`. */
  approve(userCode: string, account: string): Promise<void>;
  /** Refuses the login waiting on `userCode`, as a person pressing "abort" does. */
  deny(userCode: string): Promise<void>;
  /** Lifetime of ID tokens issued from now on (login and refresh alike). */
  setIdTokenTtl(seconds: number): void;
  stop(): Promise<void>;
}

export interface Account {
  name?: string;
  email?: string;
  groups?: string[];
}

export interface StartDeviceIdpOptions {
  clientId?: string;
  accounts: Record<string, Account>;
  /** Seconds between polls the provider asks for; oidc-provider names none, which means 5 (RFC 8628 §3.2). */
  pollIntervalSeconds?: number;
  idTokenTtlSeconds?: number;
}

const DEVICE_CODE_GRANT = 'urn:ietf:params:oauth:grant-type:device_code';
/** Test-only: names the account to sign in when the interaction page is requested. */
const ACCOUNT_HEADER = 'x-test-account';

export interface Interaction {
  uid: string;
  params: Record<string, unknown>;
}
interface GrantInstance {
  addOIDCScope(scope: string): void;
  save(): Promise<string>;
}
export interface OidcProvider {
  callback(): (request: IncomingMessage, response: ServerResponse) => void;
  on(event: string, listener: (...args: never[]) => void): void;
  interactionDetails(request: IncomingMessage, response: ServerResponse): Promise<Interaction>;
  interactionFinished(request: IncomingMessage, response: ServerResponse, result: Record<string, unknown>, options?: { mergeWithLastSubmission?: boolean }): Promise<void>;
  Grant: new (properties: { accountId: string; clientId: string }) => GrantInstance;
}
type OidcProviderConstructor = new (issuer: string, configuration: Record<string, unknown>) => OidcProvider;

/** The `oidc-provider` class. It ships no type declarations: a dynamic import of an untyped specifier plus the small shape above keeps the support code type-checked. */
export async function loadOidcProvider(): Promise<OidcProviderConstructor> {
  const specifier: string = 'oidc-provider';
  return ((await import(specifier)) as { default: OidcProviderConstructor }).default;
}

/** Ends an interaction with `accountId` signed in and every scope the client asked for granted. */
export async function signInAndConsent(provider: OidcProvider, request: IncomingMessage, response: ServerResponse, details: Interaction, accountId: string): Promise<void> {
  const grant = new provider.Grant({ accountId, clientId: String(details.params.client_id) });
  grant.addOIDCScope(String(details.params.scope ?? 'openid'));
  const grantId = await grant.save();
  await provider.interactionFinished(request, response, { login: { accountId }, consent: { grantId } }, { mergeWithLastSubmission: false });
}

export async function startDeviceIdp(options: StartDeviceIdpOptions): Promise<DeviceIdp> {
  const Provider = await loadOidcProvider();
  const clientId = options.clientId ?? 'airlock-cli';
  let idTokenTtl = options.idTokenTtlSeconds ?? 3600;

  const server = await startProviderServer((request, response) => finishInteraction(request, response));
  const { issuer } = server;

  const provider = new Provider(issuer, {
    adapter: memoryAdapter(),
    jwks: { keys: [await signingKey('device-idp-key')] },
    clients: [
      {
        client_id: clientId,
        token_endpoint_auth_method: 'none',
        grant_types: [DEVICE_CODE_GRANT, 'refresh_token'],
        response_types: [],
        redirect_uris: [],
      },
    ],
    features: { devInteractions: { enabled: false }, deviceFlow: { enabled: true } },
    scopes: ['openid', 'offline_access', 'profile', 'email'],
    claims: { openid: ['sub'], profile: ['name', 'groups'], email: ['email'] },
    // Put the scopes' claims in the ID token itself: it is the token Airlock is shown.
    conformIdTokenClaims: false,
    ttl: { IdToken: () => idTokenTtl, DeviceCode: 600, AccessToken: 3600, RefreshToken: 86_400, Grant: 86_400, Interaction: 600, Session: 3600 },
    findAccount: (_ctx: unknown, id: string) => {
      const account = options.accounts[id];
      return account ? { accountId: id, claims: () => ({ sub: id, ...account }) } : undefined;
    },
  });
  if (options.pollIntervalSeconds !== undefined) {
    // The response body is the object the provider is about to send; the interval goes into it.
    provider.on('device_authorization.success', ((_ctx: unknown, body: Record<string, unknown>) => {
      body.interval = options.pollIntervalSeconds;
    }) as never);
  }
  server.serve(provider.callback());

  /** The sign-in and consent prompts, answered for the account the request names. */
  async function finishInteraction(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const accountId = String(request.headers[ACCOUNT_HEADER] ?? '');
    if (!options.accounts[accountId]) throw new Error(`no test account ${JSON.stringify(accountId)}`);
    const details = await provider.interactionDetails(request, response);
    await signInAndConsent(provider, request, response, details, accountId);
  }

  /** The verification page, its form, and the redirects that follow, with cookies kept as a browser keeps them. */
  async function submitUserCode(userCode: string, decision: 'confirm' | 'abort', account?: string): Promise<string> {
    const cookies = new Map<string, string>();
    const browse = async (url: string, init: RequestInit & { headers?: Record<string, string> } = {}) => {
      const response = await fetch(new URL(url, issuer), {
        ...init,
        redirect: 'manual',
        headers: { ...init.headers, cookie: [...cookies].map(([name, value]) => `${name}=${value}`).join('; ') },
      });
      for (const line of response.headers.getSetCookie()) {
        const [pair] = line.split(';');
        const at = pair!.indexOf('=');
        cookies.set(pair!.slice(0, at).trim(), pair!.slice(at + 1).trim());
      }
      return response;
    };
    const page = await (await browse(`/device?user_code=${encodeURIComponent(userCode)}`)).text();
    const xsrf = /name="xsrf" value="([^"]+)"/.exec(page)?.[1];
    if (!xsrf) throw new Error(`the verification page has no form:\n${page}`);
    let response = await browse('/device', {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ xsrf, user_code: userCode, [decision]: 'yes' }).toString(),
    });
    for (let hops = 0; hops < 5 && response.status >= 300 && response.status < 400; hops++) {
      const location = response.headers.get('location')!;
      response = await browse(location, { headers: account ? { [ACCOUNT_HEADER]: account } : {} });
    }
    const text = await response.text();
    if (response.status !== 200) throw new Error(`the device verification ended with HTTP ${response.status}:\n${text}`);
    return text;
  }

  return {
    issuer,
    clientId,
    async approve(userCode, account) {
      const page = await submitUserCode(userCode, 'confirm', account);
      if (!page.includes('Sign-in Success')) throw new Error(`the device login was not approved:\n${page}`);
    },
    async deny(userCode) {
      await submitUserCode(userCode, 'abort');
    },
    setIdTokenTtl(seconds) {
      idTokenTtl = seconds;
    },
    stop: () => server.stop(),
  };
}

/** The loopback HTTP server of a test provider: `/interaction/…` goes to the test's own pages, the rest to oidc-provider. */
export interface ProviderServer {
  /** `http://127.0.0.1:<port>` */
  issuer: string;
  serve(handler: (request: IncomingMessage, response: ServerResponse) => void): void;
  stop(): Promise<void>;
}

export async function startProviderServer(interact: (request: IncomingMessage, response: ServerResponse) => Promise<void>): Promise<ProviderServer> {
  let handler: ((request: IncomingMessage, response: ServerResponse) => void) | undefined;
  const server = createServer((request, response) => {
    if (request.url?.startsWith('/interaction/')) {
      interact(request, response).catch((error: unknown) => {
        response.writeHead(500, { 'content-type': 'text/plain' }).end(error instanceof Error ? error.message : String(error));
      });
    } else if (handler) handler(request, response);
    else response.writeHead(503).end();
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return {
    issuer: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    serve(next) {
      handler = next;
    },
    async stop() {
      handler = undefined;
      server.closeAllConnections();
      server.close();
      await once(server, 'close');
    },
  };
}

/** A fresh RS256 signing key (JWK with its private part) for a test provider. */
export async function signingKey(kid: string): Promise<Record<string, unknown>> {
  const { privateKey } = await generateKeyPair('RS256', { extractable: true });
  return { ...(await exportJWK(privateKey)), kid, alg: 'RS256', use: 'sig' };
}

/** oidc-provider's storage, in memory: every model by id, device codes also by user code, sessions by uid. */
export function memoryAdapter(): new (model: string) => unknown {
  const store = new Map<string, Record<string, unknown>>();
  return class MemoryAdapter {
    constructor(private readonly model: string) {}
    private key(id: string): string {
      return `${this.model}:${id}`;
    }
    async find(id: string) {
      return store.get(this.key(id));
    }
    async upsert(id: string, payload: Record<string, unknown>) {
      store.set(this.key(id), payload);
    }
    async findByUid(uid: string) {
      return [...store.entries()].find(([key, payload]) => key.startsWith(`${this.model}:`) && payload.uid === uid)?.[1];
    }
    async findByUserCode(userCode: string) {
      return [...store.entries()].find(([key, payload]) => key.startsWith(`${this.model}:`) && payload.userCode === userCode)?.[1];
    }
    async consume(id: string) {
      const payload = store.get(this.key(id));
      if (payload) payload.consumed = Math.floor(Date.now() / 1000);
    }
    async destroy(id: string) {
      store.delete(this.key(id));
    }
    async revokeByGrantId(grantId: string) {
      for (const [key, payload] of store) if (payload.grantId === grantId) store.delete(key);
    }
  };
}
