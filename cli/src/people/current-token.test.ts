import { mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { currentToken } from './current-token.js';
import { Failure } from './errors.js';
import { loadLogin, saveLogin, type StoredLogin } from './login-store.js';

const jwt = (claims: Record<string, unknown>) =>
  `${Buffer.from('{"alg":"RS256"}').toString('base64url')}.${Buffer.from(JSON.stringify(claims)).toString('base64url')}.c2ln`;
const epoch = (iso: string) => Math.floor(Date.parse(iso) / 1000);
const idToken = (iat: string, exp: string) => jwt({ iss: 'https://idp.example.com', sub: 'alice', aud: 'airlock-cli', iat: epoch(iat), exp: epoch(exp) });

/** A token endpoint that records the forms it gets and answers with `answer`. */
function tokenEndpoint(answer: (form: URLSearchParams) => { status: number; body: unknown }) {
  const forms: URLSearchParams[] = [];
  const fetchImpl = (async (_url: string | URL | Request, init?: RequestInit) => {
    const form = new URLSearchParams(String(init?.body));
    forms.push(form);
    const { status, body } = answer(form);
    return new Response(JSON.stringify(body), { status, headers: { 'content-type': 'application/json' } });
  }) as typeof fetch;
  return { fetch: fetchImpl, forms };
}

describe('currentToken', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'airlock-token-'));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  const stored = (overrides: Partial<StoredLogin> = {}): StoredLogin => ({
    version: 1,
    issuer: 'https://idp.example.com',
    clientId: 'airlock-cli',
    scope: 'openid offline_access',
    tokenEndpoint: 'https://idp.example.com/token',
    idToken: idToken('2025-01-01T12:00:00Z', '2025-01-01T13:00:00Z'),
    refreshToken: 'refresh-1',
    obtainedAt: '2025-01-01T12:00:00.000Z',
    ...overrides,
  });
  const now = (iso: string) => () => new Date(iso);

  it('uses the stored token as it is while it is far from expiry', async () => {
    await saveLogin(dir, stored());
    const endpoint = tokenEndpoint(() => ({ status: 500, body: {} }));
    const token = await currentToken(dir, { fetch: endpoint.fetch, now: now('2025-01-01T12:30:00Z') });
    expect(token.token).toBe(stored().idToken);
    expect(endpoint.forms).toHaveLength(0);
  });

  it('refreshes near expiry with the refresh token, and stores the rotated tokens (0600)', async () => {
    await saveLogin(dir, stored());
    const fresh = idToken('2025-01-01T12:58:00Z', '2025-01-01T13:58:00Z');
    const endpoint = tokenEndpoint(() => ({ status: 200, body: { id_token: fresh, refresh_token: 'refresh-2', access_token: 'opaque', expires_in: 3600 } }));
    const token = await currentToken(dir, { fetch: endpoint.fetch, now: now('2025-01-01T12:58:00Z') });
    expect(token.token).toBe(fresh);
    expect(Object.fromEntries(endpoint.forms[0]!)).toEqual({ grant_type: 'refresh_token', refresh_token: 'refresh-1', client_id: 'airlock-cli' });
    expect(await loadLogin(dir)).toMatchObject({ idToken: fresh, refreshToken: 'refresh-2', accessToken: 'opaque', obtainedAt: '2025-01-01T12:58:00.000Z' });
    expect((await stat(join(dir, 'login.json'))).mode & 0o777).toBe(0o600);
  });

  it('keeps the refresh token when the identity provider does not rotate it', async () => {
    await saveLogin(dir, stored());
    const endpoint = tokenEndpoint(() => ({ status: 200, body: { id_token: idToken('2025-01-01T12:58:00Z', '2025-01-01T13:58:00Z') } }));
    await currentToken(dir, { fetch: endpoint.fetch, now: now('2025-01-01T12:58:00Z') });
    expect((await loadLogin(dir))?.refreshToken).toBe('refresh-1');
  });

  it('refreshes once when several callers need a fresh token at the same time', async () => {
    await saveLogin(dir, stored());
    const endpoint = tokenEndpoint(() => ({ status: 200, body: { id_token: idToken('2025-01-01T12:58:00Z', '2025-01-01T13:58:00Z'), refresh_token: 'refresh-2' } }));
    const tokens = await Promise.all([1, 2, 3].map(() => currentToken(dir, { fetch: endpoint.fetch, now: now('2025-01-01T12:58:00Z') })));
    expect(endpoint.forms).toHaveLength(1);
    expect(new Set(tokens.map((token) => token.token)).size).toBe(1);
  });

  it('still uses a token that is near expiry but valid when the refresh token is refused, and says what to do once it expired', async () => {
    await saveLogin(dir, stored());
    const endpoint = tokenEndpoint(() => ({ status: 400, body: { error: 'invalid_grant', error_description: 'grant request is invalid' } }));
    expect((await currentToken(dir, { fetch: endpoint.fetch, now: now('2025-01-01T12:58:00Z') })).token).toBe(stored().idToken);
    await expect(currentToken(dir, { fetch: endpoint.fetch, now: now('2025-01-01T13:00:01Z') })).rejects.toThrow(
      new Failure('your login has expired and the identity provider no longer accepts the refresh token: run airlock login'),
    );
  });

  it('says so when there is no login, or no refresh token and the token expired', async () => {
    await expect(currentToken(dir)).rejects.toThrow(new Failure('not logged in: run airlock login --issuer URL --client-id ID'));
    await saveLogin(dir, stored({ refreshToken: undefined }));
    await expect(currentToken(dir, { now: now('2025-01-01T14:00:00Z') })).rejects.toThrow(/your login has expired and the identity provider gave no refresh token/);
  });

  it('fails when a refresh brings no new token of the kind presented', async () => {
    await saveLogin(dir, stored());
    const endpoint = tokenEndpoint(() => ({ status: 200, body: { access_token: 'opaque' } }));
    await expect(currentToken(dir, { fetch: endpoint.fetch, now: now('2025-01-01T13:30:00Z') })).rejects.toThrow(/sent no new ID token/);
  });
});
