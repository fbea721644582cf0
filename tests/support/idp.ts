import { once } from 'node:events';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { exportJWK, generateKeyPair, type JWK } from 'jose';

/**
 * A real OpenID Provider (the certified `oidc-provider` package) for tests, on 127.0.0.1. It issues RS256 JWT access
 * tokens through the client_credentials grant with a resource indicator, the way a workload identity would obtain a
 * token for Airlock. Any client id is accepted (its secret is derived from the id), so tests can name as many callers as
 * they like; the token's `sub` is the client id.
 */
export interface TestIdp {
  /** `http://127.0.0.1:<port>`; discovery is at `${issuer}/.well-known/openid-configuration`. */
  issuer: string;
  /** Obtains a token from the provider's token endpoint. */
  issueToken(options?: { clientId?: string; groups?: string[]; audience?: string }): Promise<string>;
  /** Starts signing with a new key; previous keys stay published (so tokens already issued still verify) unless `retainPrevious` is false. */
  rotateKeys(options?: { retainPrevious?: boolean }): Promise<void>;
  stop(): Promise<void>;
}

export interface StartIdpOptions {
  /** Defaults to a free port. */
  port?: number;
  /** Default audience of issued tokens; defaults to 'airlock'. */
  audience?: string;
  /** Default groups claim of issued tokens; defaults to []. */
  groups?: string[];
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
  const ttl = options.tokenTtlSeconds ?? 600;
  let keys: JWK[] = [await newSigningKey()];
  let handler: ((request: IncomingMessage, response: ServerResponse) => void) | undefined;

  const server = createServer((request, response) => {
    if (handler) handler(request, response);
    else response.writeHead(503).end();
  });
  server.listen(options.port ?? 0, '127.0.0.1');
  await once(server, 'listening');
  const issuer = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

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
      // Test-only: a `groups` form field on the token request (JSON array) sets the token's groups claim.
      extraTokenClaims: (ctx: OidcContext) => {
        const requested = ctx.oidc?.body?.['groups'];
        return { groups: typeof requested === 'string' ? (JSON.parse(requested) as string[]) : defaultGroups };
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
      const response = await fetch(`${issuer}/token`, { method: 'POST', body: form });
      const body = (await response.json()) as { access_token?: string; error?: string; error_description?: string };
      if (!response.ok || typeof body.access_token !== 'string') {
        throw new Error(`test IdP refused the token request: ${response.status} ${body.error ?? ''} ${body.error_description ?? ''}`);
      }
      return body.access_token;
    },
    async rotateKeys(rotation = {}) {
      const next = await newSigningKey();
      keys = rotation.retainPrevious === false ? [next] : [next, ...keys];
      configure();
    },
    async stop() {
      handler = undefined;
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
