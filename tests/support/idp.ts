import { once } from 'node:events';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { exportJWK, generateKeyPair, importJWK, SignJWT, type JWK, type JWTPayload } from 'jose';

/**
 * A real OpenID Provider (the certified `oidc-provider` package) for tests, on 127.0.0.1. It issues RS256 JWT access
 * tokens through the client_credentials grant with a resource indicator, the way a workload identity would obtain a
 * token for Airlock. Any client id is accepted (its secret is derived from the id), so tests can name as many callers as
 * they like; the token's `sub` is the client id (`system:serviceaccount:agents:billing` works too).
 *
 * Several can run at once, each shaped like a different kind of issuer (`groupsClaim`, `claims`); keys rotate on demand;
 * `stop()` and `start()` take the provider off the network and back on the same port, with the same keys, to play an outage.
 */
export interface TestIdp {
  /** `http://127.0.0.1:<port>`; discovery is at `${issuer}/.well-known/openid-configuration`. */
  issuer: string;
  /** Obtains a token from the provider's token endpoint. `claims` are added to the token (test-only form field). */
  issueToken(options?: { clientId?: string; groups?: string[]; audience?: string; claims?: Record<string, unknown> }): Promise<string>;
  /**
   * Signs any claims with the provider's current signing key and kid (or another published one), for tokens a real
   * provider would not issue: expired, not yet valid, without a subject. `iss` defaults to this issuer.
   */
  sign(claims: JWTPayload, options?: { kid?: string }): Promise<string>;
  /** The kid new tokens are signed with. */
  currentKid(): string;
  /** The public keys the provider publishes right now. */
  publicKeys(): JWK[];
  /** Starts signing with a new key; previous keys stay published (so tokens already issued still verify) unless `retainPrevious` is false. */
  rotateKeys(options?: { retainPrevious?: boolean }): Promise<void>;
  /** Paths requested so far (e.g. '/jwks'), to prove what the verifier asked for. */
  requests(): string[];
  /** Whether the provider is listening. */
  readonly running: boolean;
  /** Listens again on the same port, with the same keys and state, after `stop()`. */
  start(): Promise<void>;
  /** Stops listening and drops open connections; `start()` brings it back. Safe to call twice. */
  stop(): Promise<void>;
}

export interface StartIdpOptions {
  /** Defaults to a free port. */
  port?: number;
  /** Default audience of issued tokens; defaults to 'airlock'. */
  audience?: string;
  /** Default groups of issued tokens; defaults to []. */
  groups?: string[];
  /** Claim the groups are put in; defaults to 'groups'. A URL ('https://example.com/groups') makes a namespaced claim. */
  groupsClaim?: string;
  /** Extra claims of every token for a client (name, email, a `kubernetes.io` object…). */
  claims?: (clientId: string) => Record<string, unknown>;
  /** Access token lifetime; defaults to 600 seconds. */
  tokenTtlSeconds?: number;
}

/** The resource indicator that stands for an audience (RFC 8707 wants an absolute URI). */
const RESOURCE_PREFIX = 'urn:airlock-test:audience:';

interface OidcProvider {
  callback(): (request: IncomingMessage, response: ServerResponse) => void;
}
type OidcProviderConstructor = new (issuer: string, configuration: Record<string, unknown>) => OidcProvider;
interface OidcContext {
  oidc?: { body?: Record<string, unknown> };
}

export async function startIdp(options: StartIdpOptions = {}): Promise<TestIdp> {
  // oidc-provider ships no type declarations: a dynamic import of an untyped specifier plus the small shape above keeps
  // this file type-checked without a declaration file.
  const specifier: string = 'oidc-provider';
  const { default: Provider } = (await import(specifier)) as { default: OidcProviderConstructor };

  const defaultAudience = options.audience ?? 'airlock';
  const defaultGroups = options.groups ?? [];
  const groupsClaim = options.groupsClaim ?? 'groups';
  const ttl = options.tokenTtlSeconds ?? 600;
  let keys: JWK[] = [await newSigningKey()];
  let handler: ((request: IncomingMessage, response: ServerResponse) => void) | undefined;
  const requested: string[] = [];

  const server = createServer((request, response) => {
    requested.push(new URL(request.url ?? '/', 'http://idp').pathname);
    if (handler) handler(request, response);
    else response.writeHead(503).end();
  });
  server.listen(options.port ?? 0, '127.0.0.1');
  await once(server, 'listening');
  const port = (server.address() as AddressInfo).port;
  const issuer = `http://127.0.0.1:${port}`;
  let running = true;

  const store = new Map<string, Record<string, unknown>>();
  class Adapter {
    constructor(private readonly model: string) {}
    private key(id: string): string {
      return `${this.model}:${id}`;
    }
    async find(id: string): Promise<Record<string, unknown> | undefined> {
      if (this.model === 'Client') return clientMetadata(id);
      return store.get(this.key(id));
    }
    async upsert(id: string, payload: Record<string, unknown>): Promise<void> {
      store.set(this.key(id), payload);
    }
    async findByUid(uid: string): Promise<Record<string, unknown> | undefined> {
      return [...store.values()].find((payload) => payload['uid'] === uid);
    }
    async findByUserCode(userCode: string): Promise<Record<string, unknown> | undefined> {
      return [...store.values()].find((payload) => payload['userCode'] === userCode);
    }
    async consume(id: string): Promise<void> {
      const payload = store.get(this.key(id));
      if (payload) payload['consumed'] = Math.floor(Date.now() / 1000);
    }
    async destroy(id: string): Promise<void> {
      store.delete(this.key(id));
    }
    async revokeByGrantId(grantId: string): Promise<void> {
      for (const [key, payload] of store) if (payload['grantId'] === grantId) store.delete(key);
    }
  }

  const configure = (): void => {
    const provider = new Provider(issuer, {
      adapter: Adapter,
      jwks: { keys },
      ttl: { ClientCredentials: ttl },
      features: {
        devInteractions: { enabled: false },
        clientCredentials: { enabled: true },
        resourceIndicators: {
          enabled: true,
          useGrantedResource: () => true,
          getResourceServerInfo: (_ctx: unknown, resourceIndicator: string) => ({
            scope: 'aws',
            audience: decodeURIComponent(resourceIndicator.slice(RESOURCE_PREFIX.length)),
            accessTokenTTL: ttl,
            accessTokenFormat: 'jwt',
            jwt: { sign: { alg: 'RS256' } },
          }),
        },
      },
      // Test-only: a `groups` form field on the token request (JSON array) sets the token's groups, and a `claims` field
      // (JSON object) adds claims, over the provider's per-client claims.
      extraTokenClaims: (ctx: OidcContext, token: { clientId?: string }) => {
        const body = ctx.oidc?.body ?? {};
        const groups = typeof body['groups'] === 'string' ? (JSON.parse(body['groups']) as string[]) : defaultGroups;
        const extra = typeof body['claims'] === 'string' ? (JSON.parse(body['claims']) as Record<string, unknown>) : {};
        return { ...options.claims?.(token.clientId ?? ''), [groupsClaim]: groups, ...extra };
      },
    });
    handler = provider.callback();
  };
  configure();

  return {
    issuer,
    async issueToken(request = {}) {
      const clientId = request.clientId ?? 'airlock-agent';
      const form = new URLSearchParams({
        grant_type: 'client_credentials',
        client_id: clientId,
        client_secret: clientSecret(clientId),
        resource: `${RESOURCE_PREFIX}${encodeURIComponent(request.audience ?? defaultAudience)}`,
      });
      if (request.groups) form.set('groups', JSON.stringify(request.groups));
      if (request.claims) form.set('claims', JSON.stringify(request.claims));
      const response = await fetch(`${issuer}/token`, { method: 'POST', body: form });
      const body = (await response.json()) as { access_token?: string; error?: string; error_description?: string };
      if (!response.ok || typeof body.access_token !== 'string') {
        throw new Error(`test IdP refused the token request: ${response.status} ${body.error ?? ''} ${body.error_description ?? ''}`);
      }
      return body.access_token;
    },
    async sign(claims, signing = {}) {
      const kid = signing.kid ?? (keys[0]?.kid as string);
      const jwk = keys.find((key) => key.kid === kid);
      if (!jwk) throw new Error(`test IdP does not hold a key ${kid}`);
      const now = Math.floor(Date.now() / 1000);
      return new SignJWT({ iss: issuer, iat: now, ...claims }).setProtectedHeader({ alg: 'RS256', kid, typ: 'JWT' }).sign(await importJWK(jwk, 'RS256'));
    },
    currentKid: () => keys[0]?.kid as string,
    publicKeys: () => keys.map(({ kty, n, e, kid, alg, use }) => ({ kty, n, e, kid, alg, use }) as JWK),
    async rotateKeys(rotation = {}) {
      const next = await newSigningKey();
      keys = rotation.retainPrevious === false ? [next] : [next, ...keys];
      configure();
    },
    requests: () => [...requested],
    get running() {
      return running;
    },
    async start() {
      if (running) return;
      server.listen(port, '127.0.0.1');
      await once(server, 'listening');
      running = true;
    },
    async stop() {
      if (!running) return;
      running = false;
      server.closeAllConnections();
      server.close();
      await once(server, 'close');
    },
  };
}

function clientSecret(clientId: string): string {
  return `test-secret-for-${clientId}`;
}

function clientMetadata(clientId: string): Record<string, unknown> {
  return {
    client_id: clientId,
    client_secret: clientSecret(clientId),
    grant_types: ['client_credentials'],
    response_types: [],
    redirect_uris: [],
    token_endpoint_auth_method: 'client_secret_post',
  };
}

let keyCounter = 0;
async function newSigningKey(): Promise<JWK> {
  const { privateKey } = await generateKeyPair('RS256', { extractable: true });
  keyCounter += 1;
  return { ...(await exportJWK(privateKey)), kid: `test-idp-key-${keyCounter}`, alg: 'RS256', use: 'sig' };
}
