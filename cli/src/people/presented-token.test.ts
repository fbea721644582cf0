import { describe, expect, it } from 'vitest';
import type { StoredLogin } from './login-store.js';
import { needsRefresh, presentedToken } from './presented-token.js';

const jwt = (claims: Record<string, unknown>) =>
  `${Buffer.from('{"alg":"RS256"}').toString('base64url')}.${Buffer.from(JSON.stringify(claims)).toString('base64url')}.c2ln`;
const at = (iso: string) => new Date(iso);
const epoch = (iso: string) => Math.floor(Date.parse(iso) / 1000);

const base: StoredLogin = {
  version: 1,
  issuer: 'https://idp.example.com',
  clientId: 'airlock-cli',
  scope: 'openid',
  tokenEndpoint: 'https://idp.example.com/token',
  obtainedAt: '2025-01-01T12:00:00.000Z',
};
const idToken = jwt({ iss: base.issuer, sub: 'alice', aud: 'airlock-cli', iat: epoch('2025-01-01T12:00:00Z'), exp: epoch('2025-01-01T13:00:00Z') });

describe('presentedToken', () => {
  it('presents a JWT access token whose audience is the one asked for at login', () => {
    const accessToken = jwt({ sub: 'alice', aud: ['https://airlock.example.com', 'userinfo'], exp: epoch('2025-01-01T12:30:00Z') });
    const chosen = presentedToken({ ...base, audience: 'https://airlock.example.com', accessToken, idToken });
    expect(chosen).toMatchObject({ kind: 'access token', token: accessToken, expiresAt: at('2025-01-01T12:30:00Z') });
  });

  it('presents the ID token when the access token is opaque, for another audience, or no audience was asked for', () => {
    expect(presentedToken({ ...base, audience: 'airlock', accessToken: 'opaque-token', idToken })?.kind).toBe('ID token');
    expect(presentedToken({ ...base, audience: 'airlock', accessToken: jwt({ aud: 'https://idp.example.com/userinfo' }), idToken })?.kind).toBe('ID token');
    expect(presentedToken({ ...base, accessToken: jwt({ aud: 'airlock-cli' }), idToken })).toMatchObject({ kind: 'ID token', token: idToken });
  });

  it('presents nothing when there is neither', () => {
    expect(presentedToken({ ...base, accessToken: 'opaque' })).toBeUndefined();
  });

  it('takes the issue time from iat, else from when the tokens were obtained', () => {
    const withoutIat = jwt({ sub: 'alice', aud: 'airlock-cli', exp: epoch('2025-01-01T14:00:00Z') });
    expect(presentedToken({ ...base, idToken: withoutIat })?.issuedAt).toEqual(at(base.obtainedAt));
  });
});

describe('needsRefresh', () => {
  const hour = { issuedAt: at('2025-01-01T12:00:00Z'), expiresAt: at('2025-01-01T13:00:00Z') };

  it('refreshes an hour-long token in its last five minutes, and an expired one', () => {
    expect(needsRefresh(hour, at('2025-01-01T12:30:00Z'))).toBe(false);
    expect(needsRefresh(hour, at('2025-01-01T12:54:59Z'))).toBe(false);
    expect(needsRefresh(hour, at('2025-01-01T12:55:00.001Z'))).toBe(true);
    expect(needsRefresh(hour, at('2025-01-01T14:00:00Z'))).toBe(true);
  });

  it('refreshes a short-lived token once half its life is gone, not at every use', () => {
    const short = { issuedAt: at('2025-01-01T12:00:00Z'), expiresAt: at('2025-01-01T12:02:00Z') };
    expect(needsRefresh(short, at('2025-01-01T12:00:59Z'))).toBe(false);
    expect(needsRefresh(short, at('2025-01-01T12:01:01Z'))).toBe(true);
  });

  it('refreshes a token with no life between issue and expiry only at its expiry', () => {
    expect(needsRefresh({ issuedAt: at('2025-01-01T12:00:00Z'), expiresAt: at('2025-01-01T12:00:00Z') }, at('2025-01-01T11:00:00Z'))).toBe(false);
    expect(needsRefresh({ issuedAt: at('2025-01-01T12:00:00Z'), expiresAt: at('2025-01-01T12:00:00Z') }, at('2025-01-01T12:00:00Z'))).toBe(true);
  });
});
