import { once } from 'node:events';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { exportJWK, generateKeyPair, SignJWT, type CryptoKey, type JWK, type JWTPayload } from 'jose';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { AirlockError, type AirlockErrorCode } from '@airlock/errors';
import { startIdp, type TestIdp } from '../../../tests/support/idp.js';
import { codeOf } from './error-code.test-support.js';
import { createTokenVerifier } from './token-verifier.js';

/** Counts the requests a verifier makes, by path. */
function countingFetch(): { fetch: typeof fetch; calls: string[] } {
  const calls: string[] = [];
  return {
    calls,
    fetch: (input, init) => {
      calls.push(new URL(input instanceof Request ? input.url : String(input)).pathname);
      return fetch(input, init);
    },
  };
}

describe('createTokenVerifier against a real OpenID Provider (oidc-provider)', () => {
  let idp: TestIdp;
  let other: TestIdp;

  beforeAll(async () => {
    [idp, other] = await Promise.all([startIdp({ groups: ['engineers', 'on-call'] }), startIdp()]);
  });
  afterAll(async () => {
    await Promise.all([idp.stop(), other.stop()]);
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it('accepts a valid client-credentials access token and reads its groups', async () => {
    const verifier = createTokenVerifier([{ issuer: idp.issuer, audience: 'airlock' }]);
    const token = await idp.issueToken({ clientId: 'billing-agent' });
    const identity = await verifier.verify(token);
    expect(identity).toMatchObject({ issuer: idp.issuer, kind: 'workloads', subject: 'billing-agent', audience: 'airlock', groups: ['engineers', 'on-call'], roles: ['*'] });
    expect(identity.expiresAt.getTime()).toBeGreaterThan(Date.now());
    expect(Object.keys(identity.claims).sort()).toEqual(['aud', 'exp', 'groups', 'iat', 'iss', 'sub']);
    expect(JSON.stringify(identity)).not.toContain(token.split('.')[2]);
  });

  it('takes groups per token and matches one of several audiences', async () => {
    const verifier = createTokenVerifier([{ issuer: idp.issuer, audience: ['other-gateway', 'airlock-prod'] }]);
    const identity = await verifier.verify(await idp.issueToken({ groups: ['admins'], audience: 'airlock-prod' }));
    expect(identity).toMatchObject({ groups: ['admins'], audience: 'airlock-prod' });
  });

  it('refuses a token meant for another audience', async () => {
    const verifier = createTokenVerifier([{ issuer: idp.issuer, audience: 'airlock' }]);
    const result = await codeOf(verifier.verify(await idp.issueToken({ audience: 'someone-else' })));
    expect(result).toEqual({ code: 'InvalidIdentityToken', message: expect.stringMatching(/audience \(aud\) must include "airlock"/) as string });
  });

  it('refuses a token from an issuer it does not trust, without contacting that issuer', async () => {
    const counter = countingFetch();
    const verifier = createTokenVerifier([{ issuer: idp.issuer, audience: 'airlock' }], { fetch: counter.fetch });
    const result = await codeOf(verifier.verify(await other.issueToken()));
    expect(result.code).toBe('InvalidIdentityToken');
    expect(result.message).toContain(`issuer "${other.issuer}" is not one Airlock trusts`);
    expect(counter.calls).toEqual([]);
  });

  it('discovers the JWKS once, shared by concurrent verifications', async () => {
    const counter = countingFetch();
    const verifier = createTokenVerifier([{ issuer: idp.issuer, audience: 'airlock' }], { fetch: counter.fetch });
    const tokens = await Promise.all([1, 2, 3, 4, 5].map((n) => idp.issueToken({ clientId: `agent-${n}` })));
    const identities = await Promise.all(tokens.map((token) => verifier.verify(token)));
    expect(identities.map((identity) => identity.subject)).toEqual(['agent-1', 'agent-2', 'agent-3', 'agent-4', 'agent-5']);
    await verifier.verify(tokens[0] as string);
    expect(counter.calls).toEqual(['/.well-known/openid-configuration', '/jwks']);
  });

  it('follows a key rotation at once, and refuses tokens whose key was withdrawn', async () => {
    const rotating = await startIdp();
    try {
      const counter = countingFetch();
      const verifier = createTokenVerifier([{ issuer: rotating.issuer, audience: 'airlock' }], { fetch: counter.fetch });
      const start = Date.now();
      const at = (seconds: number) => new Date(start + seconds * 1000);
      const before = await rotating.issueToken();
      await verifier.verify(before, at(0));
      await rotating.rotateKeys();
      await verifier.verify(await rotating.issueToken(), at(1));
      await verifier.verify(before, at(2));
      expect(counter.calls).toEqual(['/.well-known/openid-configuration', '/jwks', '/jwks']);
      // The next unknown kid may be fetched only after the cooldown (30 seconds by default).
      await rotating.rotateKeys({ retainPrevious: false });
      await verifier.verify(await rotating.issueToken(), at(32));
      expect((await codeOf(verifier.verify(before, at(33)))).code).toBe('InvalidIdentityToken');
    } finally {
      await rotating.stop();
    }
  });

  it('refuses a token whose claims were altered after signing', async () => {
    const verifier = createTokenVerifier([{ issuer: idp.issuer, audience: 'airlock' }]);
    const [header, payload, signature] = (await idp.issueToken({ groups: ['readers'] })).split('.') as [string, string, string];
    const claims = JSON.parse(Buffer.from(payload, 'base64url').toString()) as JWTPayload;
    const forged = Buffer.from(JSON.stringify({ ...claims, groups: ['admins'] })).toString('base64url');
    const result = await codeOf(verifier.verify(`${header}.${forged}.${signature}`));
    expect(result).toEqual({ code: 'InvalidIdentityToken', message: expect.stringMatching(/signature does not verify/) as string });
  });

  it('answers IdpUnreachable when the IdP cannot be reached, and recovers once it can', async () => {
    const down = createServer();
    down.listen(0, '127.0.0.1');
    await once(down, 'listening');
    const port = (down.address() as AddressInfo).port;
    down.close();
    await once(down, 'close');
    const verifier = createTokenVerifier([{ issuer: `http://127.0.0.1:${port}`, audience: 'airlock' }]);
    const token = await new SignJWT({ sub: 'x' }).setProtectedHeader({ alg: 'RS256', kid: 'k' }).setIssuer(`http://127.0.0.1:${port}`).setAudience('airlock').setExpirationTime('5m')
      .sign((await generateKeyPair('RS256')).privateKey);
    const result = await codeOf(verifier.verify(token));
    expect(result.code).toBe('IdpUnreachable');
    expect(new AirlockError(result.code as AirlockErrorCode, '').retryable).toBe(true);
  });
});

/** An IdP we control completely: our own key, our own discovery document, failures on demand. */
interface KeyServer {
  issuer: string;
  jwksUri: string;
  sign(claims: JWTPayload, options?: { alg?: string; key?: CryptoKey | Uint8Array; kid?: string }): Promise<string>;
  mode: 'ok' | 'discovery-500' | 'discovery-wrong-issuer' | 'jwks-500' | 'jwks-garbage';
  requests: string[];
  stop(): Promise<void>;
}

async function startKeyServer(): Promise<KeyServer> {
  const { privateKey, publicKey } = await generateKeyPair('RS256');
  const es = await generateKeyPair('ES256');
  const publicJwks: JWK[] = [
    { ...(await exportJWK(publicKey)), kid: 'rsa-1', alg: 'RS256', use: 'sig' },
    { ...(await exportJWK(es.publicKey)), kid: 'ec-1', alg: 'ES256', use: 'sig' },
  ];
  const server: Server = createServer((request, response) => {
    state.requests.push(request.url ?? '');
    const json = (status: number, body: unknown) => response.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
    if (request.url === '/.well-known/openid-configuration') {
      if (state.mode === 'discovery-500') return void json(500, {});
      return void json(200, { issuer: state.mode === 'discovery-wrong-issuer' ? 'https://impostor.example' : state.issuer, jwks_uri: state.jwksUri });
    }
    if (request.url === '/keys') {
      if (state.mode === 'jwks-500') return void json(500, {});
      if (state.mode === 'jwks-garbage') return void response.writeHead(200).end('not json');
      return void json(200, { keys: publicJwks });
    }
    json(404, {});
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const issuer = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const state: KeyServer = {
    issuer,
    jwksUri: `${issuer}/keys`,
    mode: 'ok',
    requests: [],
    async sign(claims, options = {}) {
      const alg = options.alg ?? 'RS256';
      const key = options.key ?? (alg === 'ES256' ? es.privateKey : privateKey);
      return new SignJWT(claims).setProtectedHeader({ alg, kid: options.kid ?? (alg === 'ES256' ? 'ec-1' : 'rsa-1') }).sign(key);
    },
    async stop() {
      server.closeAllConnections();
      server.close();
      await once(server, 'close');
    },
  };
  return state;
}

describe('createTokenVerifier with crafted tokens', () => {
  const NOW = new Date('2026-03-01T10:00:00Z');
  const epoch = (date: Date) => Math.floor(date.getTime() / 1000);
  let keys: KeyServer;
  let claims: JWTPayload;

  beforeAll(async () => {
    keys = await startKeyServer();
    claims = { iss: keys.issuer, aud: 'airlock', sub: 'agent-7', iat: epoch(NOW), exp: epoch(NOW) + 600, groups: ['eng'], email: 'agent-7@example.com', name: 'Agent Seven', secret_thing: 'x' };
  });
  afterAll(() => keys.stop());
  afterEach(() => {
    keys.mode = 'ok';
  });

  const verifier = (overrides: Partial<Parameters<typeof createTokenVerifier>[0][number]> = {}) =>
    createTokenVerifier([{ issuer: keys.issuer, audience: 'airlock', jwksUri: keys.jwksUri, ...overrides }]);

  it('accepts a token signed with a published key, at a frozen time, and keeps only non-secret claims', async () => {
    const identity = await verifier().verify(await keys.sign(claims), NOW);
    expect(identity).toEqual({
      issuer: keys.issuer,
      kind: 'workloads',
      subject: 'agent-7',
      audience: 'airlock',
      groups: ['eng'],
      name: 'Agent Seven',
      email: 'agent-7@example.com',
      expiresAt: new Date((epoch(NOW) + 600) * 1000),
      roles: ['*'],
      claims: { iss: keys.issuer, aud: 'airlock', sub: 'agent-7', iat: epoch(NOW), exp: epoch(NOW) + 600, groups: ['eng'], email: 'agent-7@example.com', name: 'Agent Seven' },
    });
  });

  it('answers ExpiredIdentityToken once the expiry plus the clock tolerance has passed', async () => {
    const token = await keys.sign(claims);
    const after = (seconds: number) => new Date((epoch(NOW) + 600 + seconds) * 1000);
    expect((await codeOf(verifier().verify(token, after(30)))).code).toBe('none');
    expect(await codeOf(verifier().verify(token, after(61)))).toEqual({ code: 'ExpiredIdentityToken', message: expect.stringMatching(/expired/) as string });
    expect((await codeOf(verifier({ clockToleranceSec: 0 }).verify(token, after(1)))).code).toBe('ExpiredIdentityToken');
  });

  it('refuses unsigned (alg none) tokens', async () => {
    const encode = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');
    for (const token of [`${encode({ alg: 'none' })}.${encode(claims)}.`, `${encode({ alg: 'none', typ: 'JWT' })}.${encode(claims)}.c2ln`]) {
      expect(await codeOf(verifier().verify(token, NOW))).toEqual({ code: 'InvalidIdentityToken', message: expect.stringMatching(/not signed/) as string });
    }
  });

  it('refuses HS256 tokens, including one keyed with the issuer public key (algorithm confusion)', async () => {
    const publicJwk = JSON.stringify((await (await fetch(keys.jwksUri)).json() as { keys: JWK[] }).keys[0]);
    for (const secret of [new TextEncoder().encode('a shared secret that is long enough!!'), new TextEncoder().encode(publicJwk)]) {
      const token = await keys.sign(claims, { alg: 'HS256', key: secret });
      expect(await codeOf(verifier().verify(token, NOW))).toEqual({ code: 'InvalidIdentityToken', message: expect.stringMatching(/"HS256", which Airlock does not accept/) as string });
    }
  });

  it('refuses an algorithm the issuer is not configured for', async () => {
    const token = await keys.sign(claims, { alg: 'ES256' });
    expect((await codeOf(verifier().verify(token, NOW))).code).toBe('none');
    expect((await codeOf(verifier({ algorithms: ['RS256'] }).verify(token, NOW))).code).toBe('InvalidIdentityToken');
  });

  it.each([
    ['garbage', 'not a token'],
    ['empty', ''],
    ['three junk parts', 'a.b.c'],
    ['a JWE', 'a.b.c.d.e'],
    ['oversized', `${'a'.repeat(16 * 1024)}.b.c`],
  ])('refuses %s with InvalidIdentityToken', async (_name, token) => {
    expect((await codeOf(verifier().verify(token, NOW))).code).toBe('InvalidIdentityToken');
  });

  it('says why for malformed, oversized and encrypted tokens', async () => {
    expect((await codeOf(verifier().verify(`${'a'.repeat(16 * 1024)}.b.c`, NOW))).message).toMatch(/larger than 16 KiB/);
    expect((await codeOf(verifier().verify('a.b.c.d.e', NOW))).message).toMatch(/JWE/);
    expect((await codeOf(verifier().verify('a.b.c', NOW))).message).toMatch(/not a well-formed JWT/);
  });

  it('refuses a token without a subject, or without an expiry', async () => {
    const { sub: _sub, ...noSubject } = claims;
    expect(await codeOf(verifier().verify(await keys.sign(noSubject), NOW))).toEqual({ code: 'InvalidIdentityToken', message: expect.stringMatching(/subject/) as string });
    const { exp: _exp, ...noExpiry } = claims;
    expect(await codeOf(verifier().verify(await keys.sign(noExpiry), NOW))).toEqual({ code: 'InvalidIdentityToken', message: expect.stringMatching(/expiry/) as string });
  });

  it('refuses a token that is not valid yet', async () => {
    const token = await keys.sign({ ...claims, nbf: epoch(NOW) + 300 });
    expect(await codeOf(verifier().verify(token, NOW))).toEqual({ code: 'InvalidIdentityToken', message: expect.stringMatching(/not valid yet/) as string });
  });

  it('refuses a token signed with a key the issuer does not publish', async () => {
    const stranger = await generateKeyPair('RS256');
    const token = await keys.sign(claims, { key: stranger.privateKey, kid: 'unpublished' });
    expect(await codeOf(verifier().verify(token, NOW))).toEqual({ code: 'InvalidIdentityToken', message: expect.stringMatching(/does not publish/) as string });
    const sameKid = await keys.sign(claims, { key: stranger.privateKey });
    expect((await codeOf(verifier().verify(sameKid, NOW))).code).toBe('InvalidIdentityToken');
  });

  it('reads groups from a configured claim, a nested path, or a single string, and refuses other shapes', async () => {
    const roles = await keys.sign({ ...claims, realm_access: { roles: ['ops'] }, 'https://example.com/groups': ['namespaced'], 'cognito:groups': ['pool'] });
    expect((await verifier({ claims: { groups: 'realm_access.roles' } }).verify(roles, NOW)).groups).toEqual(['ops']);
    expect((await verifier({ claims: { groups: 'https://example.com/groups' } }).verify(roles, NOW)).groups).toEqual(['namespaced']);
    expect((await verifier({ claims: { groups: 'cognito:groups' } }).verify(roles, NOW)).groups).toEqual(['pool']);
    expect((await verifier({ claims: { groups: 'missing' } }).verify(roles, NOW)).groups).toEqual([]);
    expect((await verifier().verify(await keys.sign({ ...claims, groups: 'solo' }), NOW)).groups).toEqual(['solo']);
    expect((await codeOf(verifier().verify(await keys.sign({ ...claims, groups: ['ok', 7] }), NOW))).code).toBe('InvalidIdentityToken');
    expect((await codeOf(verifier().verify(await keys.sign({ ...claims, groups: { admin: true } }), NOW))).message).toMatch(/"groups" claim must be a list of group names/);
  });

  it('maps subject, name, e-mail and groups through the claim mapping, including Kubernetes service-account tokens', async () => {
    const kubernetes = {
      ...claims,
      sub: 'system:serviceaccount:agents:billing',
      'kubernetes.io': { namespace: 'agents', serviceaccount: { name: 'billing', uid: '5f0c' }, pod: { name: 'billing-7d9' } },
    };
    const identity = await verifier({
      kind: 'workloads',
      claims: { name: 'kubernetes.io.serviceaccount.name', groups: 'kubernetes.io.namespace' },
    }).verify(await keys.sign(kubernetes), NOW);
    expect(identity).toMatchObject({ kind: 'workloads', subject: 'system:serviceaccount:agents:billing', name: 'billing', groups: ['agents'], email: 'agent-7@example.com' });

    const person = { ...claims, preferred_username: 'ada', profile: { mail: 'ada@example.com', display: 'Ada L.' }, 'https://example.com/groups': ['admins'] };
    const mapped = await verifier({
      kind: 'people',
      claims: { subject: 'preferred_username', name: 'profile.display', email: 'profile.mail', groups: 'https://example.com/groups' },
    }).verify(await keys.sign(person), NOW);
    expect(mapped).toMatchObject({ kind: 'people', subject: 'ada', name: 'Ada L.', email: 'ada@example.com', groups: ['admins'] });
    // Records keep the standard claims and the mapped values, nothing else.
    expect(mapped.claims).toEqual({ iss: keys.issuer, aud: 'airlock', sub: 'agent-7', iat: epoch(NOW), exp: epoch(NOW) + 600, preferred_username: 'ada', name: 'Ada L.', email: 'ada@example.com', groups: ['admins'] });
  });

  it('prefers a claim named in full over a dotted path, and follows paths whose segments contain dots', async () => {
    const token = await keys.sign({ ...claims, 'a.b': 'whole', a: { b: 'path' }, 'x.io': { 'y.z': { w: 'deep' } } });
    expect((await verifier({ claims: { subject: 'a.b' } }).verify(token, NOW)).subject).toBe('whole');
    expect((await verifier({ claims: { subject: 'x.io.y.z.w' } }).verify(token, NOW)).subject).toBe('deep');
  });

  it('refuses a token without its configured subject claim, or with one that is not a string', async () => {
    expect(await codeOf(verifier({ claims: { subject: 'email_verified_login' } }).verify(await keys.sign(claims), NOW))).toEqual({
      code: 'InvalidIdentityToken',
      message: 'The identity token has no subject (email_verified_login) claim.',
    });
    expect((await codeOf(verifier().verify(await keys.sign({ ...claims, sub: '' }), NOW))).code).toBe('InvalidIdentityToken');
    expect(await codeOf(verifier({ claims: { subject: 'uid' } }).verify(await keys.sign({ ...claims, uid: 42 }), NOW))).toEqual({
      code: 'InvalidIdentityToken',
      message: expect.stringMatching(/subject claim "uid" must be a string/) as string,
    });
  });

  it('leaves out a name or e-mail of the wrong shape rather than refusing the token', async () => {
    const identity = await verifier().verify(await keys.sign({ ...claims, name: ['A', 'B'], email: 7 }), NOW);
    expect(identity.name).toBeUndefined();
    expect(identity.email).toBeUndefined();
  });

  it('carries the issuer kind, role patterns and session cap on the identity', async () => {
    const identity = await verifier({ kind: 'people', roles: ['arn:aws:iam::123456789012:role/people-*'], maxSessionSeconds: 1800 }).verify(await keys.sign(claims), NOW);
    expect(identity).toMatchObject({ kind: 'people', roles: ['arn:aws:iam::123456789012:role/people-*'], maxSessionSeconds: 1800 });
  });

  it('accepts exp and nbf within the clock tolerance and refuses them beyond it, and refuses a token issued in the future', async () => {
    const at = (seconds: number) => new Date((epoch(NOW) + seconds) * 1000);
    expect((await codeOf(verifier().verify(await keys.sign({ ...claims, nbf: epoch(NOW) + 60 }), NOW))).code).toBe('none');
    expect((await codeOf(verifier().verify(await keys.sign({ ...claims, nbf: epoch(NOW) + 61 }), NOW))).message).toMatch(/not valid yet/);
    expect((await codeOf(verifier().verify(await keys.sign({ ...claims, iat: epoch(NOW) + 60 }), NOW))).code).toBe('none');
    expect(await codeOf(verifier().verify(await keys.sign({ ...claims, iat: epoch(NOW) + 3600, exp: epoch(NOW) + 7200 }), NOW))).toEqual({
      code: 'InvalidIdentityToken',
      message: expect.stringMatching(/issued in the future/) as string,
    });
    const token = await keys.sign(claims);
    expect((await codeOf(verifier({ clockToleranceSec: 300 }).verify(token, at(600 + 299)))).code).toBe('none');
    expect((await codeOf(verifier({ clockToleranceSec: 300 }).verify(token, at(600 + 301)))).code).toBe('ExpiredIdentityToken');
  });

  it('maps discovery and JWKS failures to IdpUnreachable, caching nothing that failed', async () => {
    const token = await keys.sign(claims);
    const discovering = createTokenVerifier([{ issuer: keys.issuer, audience: 'airlock' }]);
    for (const mode of ['discovery-500', 'discovery-wrong-issuer', 'jwks-500', 'jwks-garbage'] as const) {
      keys.mode = mode;
      const fresh = createTokenVerifier([{ issuer: keys.issuer, audience: 'airlock' }]);
      expect({ mode, ...(await codeOf(fresh.verify(token, NOW))) }).toMatchObject({ mode, code: 'IdpUnreachable' });
    }
    keys.mode = 'discovery-500';
    expect((await codeOf(discovering.verify(token, NOW))).code).toBe('IdpUnreachable');
    keys.mode = 'ok';
    // A failed attempt is not repeated within the cooldown (30 seconds), then the IdP is asked again.
    expect((await codeOf(discovering.verify(token, new Date(NOW.getTime() + 29_000)))).code).toBe('IdpUnreachable');
    expect((await codeOf(discovering.verify(token, new Date(NOW.getTime() + 30_000)))).code).toBe('none');
  });

  it('keeps verifying tokens signed by known keys while the IdP is down, past the cache age, asking it once per cooldown', async () => {
    const later = (minutes: number) => new Date(NOW.getTime() + minutes * 60_000);
    const longLived = await keys.sign({ ...claims, exp: epoch(NOW) + 24 * 3600 });
    const shared = verifier();
    await shared.verify(longLived, NOW);
    keys.mode = 'jwks-500';
    const asked = keys.requests.length;
    for (const minutes of [11, 11.1, 11.2, 60, 600]) expect((await codeOf(shared.verify(longLived, later(minutes)))).code).toBe('none');
    // 11 min (stale: one attempt), 11.1 and 11.2 (within the cooldown: none), 60 and 600 (one each).
    expect(keys.requests.length - asked).toBe(3);
  });

  it('does not let a storm of made-up kids hammer the IdP', async () => {
    const shared = verifier();
    await shared.verify(await keys.sign(claims), NOW);
    const asked = keys.requests.length;
    const stranger = await generateKeyPair('RS256');
    const forged = await Promise.all(Array.from({ length: 30 }, (_, n) => keys.sign(claims, { key: stranger.privateKey, kid: `made-up-${n}` })));
    const results = await Promise.all(forged.map((token) => codeOf(shared.verify(token, NOW))));
    expect(new Set(results.map((result) => result.message))).toEqual(new Set(['The identity token is signed with a key its issuer does not publish.']));
    expect(keys.requests.length - asked).toBe(1);
  });

  it('refuses a token naming one trusted issuer but signed by another', async () => {
    const second = await startKeyServer();
    try {
      const both = createTokenVerifier([
        { issuer: keys.issuer, audience: 'airlock', jwksUri: keys.jwksUri },
        { issuer: second.issuer, audience: 'airlock', jwksUri: second.jwksUri },
      ]);
      expect((await codeOf(both.verify(await second.sign(claims), NOW))).code).toBe('InvalidIdentityToken');
      expect((await codeOf(both.verify(await second.sign({ ...claims, iss: second.issuer }), NOW))).code).toBe('none');
    } finally {
      await second.stop();
    }
  });

  it('never repeats the token in an error message', async () => {
    const token = await keys.sign({ ...claims, aud: 'elsewhere' });
    const { message } = await codeOf(verifier().verify(token, NOW));
    expect(message).not.toContain(token);
    expect(message).not.toContain(token.split('.')[2]);
  });

  it('refuses configurations that would weaken verification', () => {
    const attempt = (config: Partial<Parameters<typeof createTokenVerifier>[0][number]>) => () => createTokenVerifier([{ issuer: 'https://idp.example.com', audience: 'airlock', ...config }]);
    for (const algorithms of [['none'], ['HS256'], ['RS256', 'HS512'], []]) {
      expect(attempt({ algorithms })).toThrow(expect.objectContaining({ code: 'InvalidConfiguration' }) as AirlockError);
    }
    expect(attempt({ audience: [] })).toThrow(AirlockError);
    expect(attempt({ clockToleranceSec: 301 })).toThrow(/clockToleranceSec/);
    expect(attempt({ roles: [] })).toThrow(/roles must list/);
    expect(attempt({ roles: [''] })).toThrow(/roles must list/);
    expect(attempt({ claims: { subject: '' } })).toThrow(/claims.subject/);
    expect(attempt({ claims: { group: 'x' } as never })).toThrow(/claims.group is not a claim/);
    expect(attempt({ kind: 'robots' as never })).toThrow(/kind/);
    expect(attempt({ maxSessionSeconds: 0 })).toThrow(/maxSessionSeconds/);
    expect(attempt({ issuer: 'not a url' })).toThrow(AirlockError);
    expect(attempt({ jwksUri: 'file:///etc/keys' })).toThrow(AirlockError);
    expect(() => createTokenVerifier([{ issuer: 'https://a.example', audience: 'x' }, { issuer: 'https://a.example', audience: 'y' }])).toThrow(/twice/);
  });
});
