import { exportJWK, generateKeyPair, type JWK } from 'jose';
import { beforeAll, describe, expect, it } from 'vitest';
import { codeOf } from './error-code.test-support.js';
import { createIssuerKeys, type KeyCachePolicy } from './issuer-keys.js';

const ISSUER = 'https://idp.example.com';
const JWKS_URI = 'https://idp.example.com/keys';
const T0 = Date.parse('2026-03-01T10:00:00Z');
const SECOND = 1000;
const MINUTE = 60 * SECOND;
const policy: Required<KeyCachePolicy> = { maxAgeMs: 10 * MINUTE, cooldownMs: 30 * SECOND, maxStaleMs: 24 * 60 * MINUTE, timeoutMs: 5 * SECOND };

const publicJwks = new Map<string, JWK>();
beforeAll(async () => {
  for (const kid of ['k1', 'k2', 'k3']) {
    const { publicKey } = await generateKeyPair('RS256');
    publicJwks.set(kid, { ...(await exportJWK(publicKey)), kid, alg: 'RS256', use: 'sig' });
  }
});

/** An IdP in memory: which kids it publishes, whether it answers, and every request it got. */
function fakeIdp(published: string[] = ['k1']) {
  const idp = {
    published,
    mode: 'ok' as 'ok' | 'down' | 'http-500' | 'garbage' | 'empty' | 'huge' | 'hang',
    requests: [] as string[],
    /** Holds answers until released, to observe concurrent callers sharing one request. */
    gate: undefined as Promise<void> | undefined,
    fetch: (async (input: string | URL | Request) => {
      const url = new URL(input instanceof Request ? input.url : String(input));
      idp.requests.push(url.pathname);
      if (idp.gate) await idp.gate;
      const json = (body: unknown, status = 200) => new Response(JSON.stringify(body), { status, headers: { 'content-type': 'application/json' } });
      switch (idp.mode) {
        case 'down':
          throw new TypeError('fetch failed');
        case 'http-500':
          return json({}, 500);
        case 'garbage':
          return new Response('<html>maintenance</html>', { status: 200 });
        case 'empty':
          return json({ keys: [] });
        case 'huge':
          return json({ keys: [], padding: 'x'.repeat(600 * 1024) });
        default:
          break;
      }
      if (url.pathname === '/.well-known/openid-configuration') return json({ issuer: ISSUER, jwks_uri: JWKS_URI });
      if (url.pathname === '/keys') return json({ keys: idp.published.map((kid) => publicJwks.get(kid)) });
      return json({}, 404);
    }) as typeof fetch,
  };
  return idp;
}

const header = (kid: string) => ({ alg: 'RS256', kid });
const jwksFetches = (idp: ReturnType<typeof fakeIdp>) => idp.requests.filter((path) => path === '/keys').length;

describe('createIssuerKeys', () => {
  it('discovers the key set once and serves every known kid from the cache', async () => {
    const idp = fakeIdp(['k1', 'k2']);
    const keys = createIssuerKeys(ISSUER, undefined, { fetch: idp.fetch, policy });
    await Promise.all([keys.getKey(header('k1'), T0), keys.getKey(header('k2'), T0), keys.getKey(header('k1'), T0)]);
    await keys.getKey(header('k2'), T0 + 9 * MINUTE);
    expect(idp.requests).toEqual(['/.well-known/openid-configuration', '/keys']);
    expect(keys.requests).toBe(2);
  });

  it('fetches a new kid at once after a rotation, once for all concurrent callers', async () => {
    const idp = fakeIdp(['k1']);
    const keys = createIssuerKeys(ISSUER, JWKS_URI, { fetch: idp.fetch, policy });
    await keys.getKey(header('k1'), T0);
    idp.published = ['k2', 'k1'];
    let release!: () => void;
    idp.gate = new Promise<void>((resolve) => (release = resolve));
    const waiting = Promise.all(Array.from({ length: 20 }, () => keys.getKey(header('k2'), T0 + SECOND)));
    await new Promise((resolve) => setTimeout(resolve, 10));
    release();
    idp.gate = undefined;
    await waiting;
    await keys.getKey(header('k1'), T0 + 2 * SECOND);
    expect(jwksFetches(idp)).toBe(2);
  });

  it('answers a storm of unknown kids with at most one JWKS request per cooldown', async () => {
    const idp = fakeIdp(['k1']);
    const keys = createIssuerKeys(ISSUER, JWKS_URI, { fetch: idp.fetch, policy });
    await keys.getKey(header('k1'), T0);
    const storm = async (at: number) => {
      const results = await Promise.all(Array.from({ length: 100 }, (_, n) => keys.getKey(header(`made-up-${at}-${n}`), at).then(() => 'accepted', (error: Error) => error.name)));
      expect(new Set(results)).toEqual(new Set(['JWKSNoMatchingKey']));
    };
    await storm(T0 + SECOND);
    await storm(T0 + 10 * SECOND);
    await storm(T0 + 30 * SECOND);
    expect(jwksFetches(idp)).toBe(2); // the first load, then one refetch for the first storm
    await storm(T0 + 31 * SECOND + 1);
    expect(jwksFetches(idp)).toBe(3);
    // Known keys are unaffected throughout.
    await keys.getKey(header('k1'), T0 + 32 * SECOND);
  });

  it('a rotation arriving during the cooldown is picked up once the cooldown has passed', async () => {
    const idp = fakeIdp(['k1']);
    const keys = createIssuerKeys(ISSUER, JWKS_URI, { fetch: idp.fetch, policy });
    await keys.getKey(header('k1'), T0);
    await expect(keys.getKey(header('bogus'), T0 + SECOND)).rejects.toThrow(/no applicable key/);
    idp.published = ['k2', 'k1'];
    await expect(keys.getKey(header('k2'), T0 + 2 * SECOND)).rejects.toThrow(/no applicable key/);
    await keys.getKey(header('k2'), T0 + 32 * SECOND);
  });

  it('keeps using known keys through an IdP outage, past the normal cache age, without hammering it', async () => {
    const idp = fakeIdp(['k1']);
    const keys = createIssuerKeys(ISSUER, JWKS_URI, { fetch: idp.fetch, policy });
    await keys.getKey(header('k1'), T0);
    idp.mode = 'down';
    // Stale now: one refresh attempt, which fails; the known key still verifies.
    const stale = T0 + 11 * MINUTE;
    await keys.getKey(header('k1'), stale);
    expect(jwksFetches(idp)).toBe(2);
    // Within the cooldown after the failure nothing more is asked, whatever arrives.
    await Promise.all(Array.from({ length: 50 }, () => keys.getKey(header('k1'), stale + 10 * SECOND)));
    expect((await codeOf(keys.getKey(header('unknown'), stale + 10 * SECOND))).code).toBe('IdpUnreachable');
    expect(jwksFetches(idp)).toBe(2);
    // After the cooldown: one more attempt, still serving the known key.
    await keys.getKey(header('k1'), stale + 31 * SECOND);
    expect(jwksFetches(idp)).toBe(3);
    // Hours into the outage the key still works.
    await keys.getKey(header('k1'), T0 + 23 * 60 * MINUTE);
    expect(jwksFetches(idp)).toBe(4);
    // When the IdP is back, the next refresh takes its current keys.
    idp.mode = 'ok';
    idp.published = ['k2'];
    await keys.getKey(header('k2'), T0 + 23 * 60 * MINUTE + 31 * SECOND);
    await expect(keys.getKey(header('k1'), T0 + 23 * 60 * MINUTE + 32 * SECOND)).rejects.toThrow(/no applicable key/);
  });

  it('stops trusting keys that could not be refreshed for longer than maxStale', async () => {
    const idp = fakeIdp(['k1']);
    const keys = createIssuerKeys(ISSUER, JWKS_URI, { fetch: idp.fetch, policy: { ...policy, maxStaleMs: 60 * MINUTE } });
    await keys.getKey(header('k1'), T0);
    idp.mode = 'http-500';
    await keys.getKey(header('k1'), T0 + 59 * MINUTE);
    const result = await codeOf(keys.getKey(header('k1'), T0 + 61 * MINUTE));
    expect(result).toEqual({ code: 'IdpUnreachable', message: expect.stringMatching(/HTTP 500/) as string });
  });

  it('refreshes keys older than maxAge, dropping withdrawn ones', async () => {
    const idp = fakeIdp(['k1', 'k2']);
    const keys = createIssuerKeys(ISSUER, JWKS_URI, { fetch: idp.fetch, policy });
    await keys.getKey(header('k1'), T0);
    idp.published = ['k2'];
    await keys.getKey(header('k1'), T0 + 9 * MINUTE);
    await expect(keys.getKey(header('k1'), T0 + 10 * MINUTE)).rejects.toThrow(/no applicable key/);
    expect(jwksFetches(idp)).toBe(2);
  });

  it('treats an empty, malformed or oversized key set as a failure and keeps the known keys', async () => {
    for (const mode of ['empty', 'garbage', 'huge', 'http-500'] as const) {
      const idp = fakeIdp(['k1']);
      const keys = createIssuerKeys(ISSUER, JWKS_URI, { fetch: idp.fetch, policy });
      await keys.getKey(header('k1'), T0);
      idp.mode = mode;
      await keys.getKey(header('k1'), T0 + 11 * MINUTE);
      expect({ mode, fetches: jwksFetches(idp) }).toEqual({ mode, fetches: 2 });
      const fresh = createIssuerKeys(ISSUER, JWKS_URI, { fetch: idp.fetch, policy });
      expect({ mode, ...(await codeOf(fresh.getKey(header('k1'), T0))) }).toMatchObject({ mode, code: 'IdpUnreachable' });
    }
  });

  it('on a cold start against a dead IdP: one request for all concurrent callers, none during the cooldown, recovery after it', async () => {
    const idp = fakeIdp(['k1']);
    idp.mode = 'down';
    const keys = createIssuerKeys(ISSUER, undefined, { fetch: idp.fetch, policy });
    const results = await Promise.all(Array.from({ length: 20 }, () => codeOf(keys.getKey(header('k1'), T0))));
    expect(new Set(results.map((result) => result.code))).toEqual(new Set(['IdpUnreachable']));
    expect(idp.requests).toEqual(['/.well-known/openid-configuration']);
    idp.mode = 'ok';
    expect((await codeOf(keys.getKey(header('k1'), T0 + 29 * SECOND))).code).toBe('IdpUnreachable');
    expect(idp.requests).toHaveLength(1);
    expect((await codeOf(keys.getKey(header('k1'), T0 + 30 * SECOND))).code).toBe('none');
    expect(idp.requests).toEqual(['/.well-known/openid-configuration', '/.well-known/openid-configuration', '/keys']);
  });

  it('refuses a discovery document naming another issuer or no usable jwks_uri', async () => {
    for (const document of [{ issuer: 'https://impostor.example', jwks_uri: JWKS_URI }, { issuer: ISSUER }, { issuer: ISSUER, jwks_uri: 'file:///etc/keys' }]) {
      const fetchDocument = (async () => new Response(JSON.stringify(document), { status: 200 })) as unknown as typeof fetch;
      const keys = createIssuerKeys(ISSUER, undefined, { fetch: fetchDocument, policy });
      expect((await codeOf(keys.getKey(header('k1'), T0))).code).toBe('IdpUnreachable');
    }
  });

  it('gives up on an IdP that does not answer within the timeout', async () => {
    const hanging = ((_input: unknown, init?: RequestInit) =>
      new Promise((_resolve, reject) => init?.signal?.addEventListener('abort', () => reject(init.signal?.reason)))) as typeof fetch;
    const keys = createIssuerKeys(ISSUER, JWKS_URI, { fetch: hanging, policy: { ...policy, timeoutMs: 20 } });
    expect(await codeOf(keys.getKey(header('k1'), T0))).toEqual({ code: 'IdpUnreachable', message: expect.stringMatching(/request for its JSON Web Key Set failed/) as string });
  });
});
