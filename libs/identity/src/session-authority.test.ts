import { createHmac, randomBytes } from 'node:crypto';
import { SignJWT } from 'jose';
import { describe, expect, it } from 'vitest';
import type { AirlockError } from '@airlock/errors';
import { codeOf } from './error-code.test-support.js';
import { createSessionAuthority } from './session-authority.js';
import type { SessionKeyRing } from './session-types.js';

const NOW = new Date('2026-03-01T10:00:00.750Z');
const HOUR = 3_600_000;
const K1 = { id: 'k1', secret: new Uint8Array(randomBytes(32)) };
const K2 = { id: 'k2', secret: new Uint8Array(randomBytes(48)) };

const input = {
  subject: 'billing-agent',
  issuer: 'https://idp.example.com',
  groups: ['engineers', 'on-call'],
  name: 'Billing Agent',
  roleArn: 'arn:aws:iam::123456789012:role/agent',
  roleSessionName: 'billing-agent',
  expiresAt: new Date(NOW.getTime() + HOUR),
};

function flipAt(token: string, index: number): string {
  const replacement = token[index] === 'A' ? 'B' : 'A';
  return `${token.slice(0, index)}${replacement}${token.slice(index + 1)}`;
}

describe('createSessionAuthority', () => {
  it('issues credentials that open again to the same claims and secret', async () => {
    const authority = createSessionAuthority({ current: K1 });
    const { credentials, claims } = await authority.issue(input, NOW);
    expect(credentials.accessKeyId).toMatch(/^ALSA[A-Z2-7]{16}$/);
    expect(credentials.secretAccessKey).toMatch(/^[A-Za-z0-9_-]{40}$/);
    expect(credentials.sessionToken.startsWith('airlock.')).toBe(true);
    expect(credentials.expiration).toEqual(new Date('2026-03-01T11:00:00Z'));
    // The identity fields come back exactly as given; the times are whole seconds.
    expect(claims).toEqual({
      ...input,
      sessionId: expect.stringMatching(/^[0-9a-f-]{36}$/) as string,
      accessKeyId: credentials.accessKeyId,
      issuedAt: new Date('2026-03-01T10:00:00Z'),
      expiresAt: new Date('2026-03-01T11:00:00Z'),
    });

    const opened = await authority.open(credentials.accessKeyId, credentials.sessionToken, new Date(NOW.getTime() + HOUR / 2));
    expect(opened).toEqual({ claims, secretAccessKey: credentials.secretAccessKey });
  });

  it('derives the secret as specified, from the server key and the access key id only', async () => {
    const { credentials } = await createSessionAuthority({ current: K1 }).issue(input, NOW);
    const expected = createHmac('sha256', K1.secret).update(`airlock-session-secret:${credentials.accessKeyId}`).digest('base64url').slice(0, 40);
    expect(credentials.secretAccessKey).toBe(expected);
    // Nothing secret travels in the token: its claims are readable, and neither server key nor secret is among them.
    const payload = Buffer.from(credentials.sessionToken.split('.')[2] ?? '', 'base64url').toString();
    expect(payload).not.toContain(credentials.secretAccessKey);
    expect(payload).not.toContain(Buffer.from(K1.secret).toString('base64'));
  });

  it('gives every session its own access key id and secret', async () => {
    const authority = createSessionAuthority({ current: K1 });
    const issued = await Promise.all(Array.from({ length: 200 }, () => authority.issue(input, NOW)));
    expect(new Set(issued.map(({ credentials }) => credentials.accessKeyId)).size).toBe(200);
    expect(new Set(issued.map(({ credentials }) => credentials.secretAccessKey)).size).toBe(200);
    expect(new Set(issued.map(({ claims }) => claims.sessionId)).size).toBe(200);
  });

  it('refuses a tampered token', async () => {
    const authority = createSessionAuthority({ current: K1 });
    const { credentials } = await authority.issue(input, NOW);
    const token = credentials.sessionToken;
    const [, , payload = '', signature = ''] = token.split('.');
    const claimsStart = token.indexOf(payload);
    for (const tampered of [flipAt(token, claimsStart + 10), flipAt(token, token.length - signature.length + 5), `${token}x`, token.replace(payload, Buffer.from('{"akid":"x"}').toString('base64url'))]) {
      expect(await codeOf(authority.open(credentials.accessKeyId, tampered, NOW))).toEqual({ code: 'UnknownAccessKey', message: expect.stringMatching(/security token included in the request is invalid/) as string });
    }
  });

  it('refuses a token presented with another access key id', async () => {
    const authority = createSessionAuthority({ current: K1 });
    const first = await authority.issue(input, NOW);
    const second = await authority.issue(input, NOW);
    const result = await codeOf(authority.open(second.credentials.accessKeyId, first.credentials.sessionToken, NOW));
    expect(result).toEqual({ code: 'UnknownAccessKey', message: expect.stringMatching(/different access key ID/) as string });
    // Also once the token has been opened (and remembered) with its own key id.
    expect((await codeOf(authority.open(first.credentials.accessKeyId, first.credentials.sessionToken, NOW))).code).toBe('none');
    expect((await codeOf(authority.open(second.credentials.accessKeyId, first.credentials.sessionToken, NOW))).code).toBe('UnknownAccessKey');
  });

  it('answers ExpiredSession from the expiry on, and only for authentic tokens', async () => {
    const authority = createSessionAuthority({ current: K1 });
    const { credentials } = await authority.issue(input, NOW);
    const at = (ms: number) => new Date(new Date('2026-03-01T11:00:00Z').getTime() + ms);
    expect((await codeOf(authority.open(credentials.accessKeyId, credentials.sessionToken, at(-1000)))).code).toBe('none');
    expect(await codeOf(authority.open(credentials.accessKeyId, credentials.sessionToken, at(0)))).toEqual({ code: 'ExpiredSession', message: expect.stringMatching(/expired/) as string });
    expect((await codeOf(authority.open(credentials.accessKeyId, credentials.sessionToken, at(HOUR)))).code).toBe('ExpiredSession');
    const forged = flipAt(credentials.sessionToken, credentials.sessionToken.length - 3);
    expect((await codeOf(authority.open(credentials.accessKeyId, forged, at(HOUR)))).code).toBe('UnknownAccessKey');
  });

  it('refuses a token whose key id it does not hold', async () => {
    const { credentials } = await createSessionAuthority({ current: K1 }).issue(input, NOW);
    const elsewhere = createSessionAuthority({ current: K2 });
    expect(await codeOf(elsewhere.open(credentials.accessKeyId, credentials.sessionToken, NOW))).toEqual({ code: 'UnknownAccessKey', message: expect.stringMatching(/no longer holds/) as string });
    const impostor = createSessionAuthority({ current: { id: 'k1', secret: new Uint8Array(randomBytes(32)) } });
    expect((await codeOf(impostor.open(credentials.accessKeyId, credentials.sessionToken, NOW))).code).toBe('UnknownAccessKey');
  });

  it('keeps opening sessions issued before a rotation, with the same secret, while issuing with the new key', async () => {
    const before = createSessionAuthority({ current: K1 });
    const after = createSessionAuthority({ current: K2, previous: [K1] });
    const old = await before.issue(input, NOW);
    expect(await after.open(old.credentials.accessKeyId, old.credentials.sessionToken, NOW)).toEqual({ claims: old.claims, secretAccessKey: old.credentials.secretAccessKey });

    const fresh = await after.issue(input, NOW);
    expect(JSON.parse(Buffer.from(fresh.credentials.sessionToken.split('.')[1] ?? '', 'base64url').toString())).toMatchObject({ kid: 'k2', alg: 'HS256' });
    expect((await codeOf(before.open(fresh.credentials.accessKeyId, fresh.credentials.sessionToken, NOW))).code).toBe('UnknownAccessKey');
    // Once K1 leaves the ring, its sessions end.
    const retired = createSessionAuthority({ current: K2 });
    expect((await codeOf(retired.open(old.credentials.accessKeyId, old.credentials.sessionToken, NOW))).code).toBe('UnknownAccessKey');
  });

  it('refuses keys and tokens that are not Airlock ones', async () => {
    const authority = createSessionAuthority({ current: K1 });
    const { credentials } = await authority.issue(input, NOW);
    expect(await codeOf(authority.open('AKIAIOSFODNN7EXAMPLE', credentials.sessionToken, NOW))).toEqual({ code: 'UnknownAccessKey', message: expect.stringMatching(/not an Airlock session key/) as string });
    expect((await codeOf(authority.open('ALSA' + '1'.repeat(16), credentials.sessionToken, NOW))).code).toBe('UnknownAccessKey');
    for (const token of ['', 'FwoGZXIvYXdzEXAMPLE', credentials.sessionToken.slice('airlock.'.length), 'airlock.', 'airlock.a.b.c', `airlock.${'a'.repeat(20_000)}`]) {
      expect((await codeOf(authority.open(credentials.accessKeyId, token, NOW))).code).toBe('UnknownAccessKey');
    }
  });

  it('refuses tokens signed any other way: with the raw server key, or unsigned', async () => {
    const authority = createSessionAuthority({ current: K1 });
    const { credentials, claims } = await authority.issue(input, NOW);
    const payload = { akid: credentials.accessKeyId, idp: claims.issuer, grp: ['admins'], role: claims.roleArn, rsn: claims.roleSessionName };
    const rawKeyed = await new SignJWT(payload).setProtectedHeader({ alg: 'HS256', typ: 'airlock-session+jwt', kid: 'k1' }).setIssuer('urn:airlock:session').setSubject('x').setJti('j').setIssuedAt().setExpirationTime('1h').sign(K1.secret);
    expect((await codeOf(authority.open(credentials.accessKeyId, `airlock.${rawKeyed}`, new Date()))).code).toBe('UnknownAccessKey');
    const encode = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');
    const unsigned = `${encode({ alg: 'none', kid: 'k1', typ: 'airlock-session+jwt' })}.${encode({ ...payload, iss: 'urn:airlock:session', sub: 'x', jti: 'j', iat: 1, exp: 9_999_999_999 })}.`;
    expect((await codeOf(authority.open(credentials.accessKeyId, `airlock.${unsigned}`, NOW))).code).toBe('UnknownAccessKey');
  });

  it('keeps secrets out of its error messages', async () => {
    const authority = createSessionAuthority({ current: K1 });
    const { credentials } = await authority.issue(input, NOW);
    const messages = await Promise.all([
      codeOf(authority.open(credentials.accessKeyId, flipAt(credentials.sessionToken, 40), NOW)),
      codeOf(authority.open(credentials.accessKeyId, credentials.sessionToken, new Date(NOW.getTime() + 2 * HOUR))),
      codeOf(createSessionAuthority({ current: K2 }).open(credentials.accessKeyId, credentials.sessionToken, NOW)),
    ]);
    for (const { message } of messages) {
      expect(message).not.toBe('');
      expect(message).not.toContain(credentials.sessionToken.slice(8, 40));
      expect(message).not.toContain(credentials.secretAccessKey);
    }
  });

  it('refuses to issue a session that is already over, or that lacks who or what', async () => {
    const authority = createSessionAuthority({ current: K1 });
    expect((await codeOf(authority.issue({ ...input, expiresAt: NOW }, NOW))).code).toBe('InvalidRequest');
    // JWT times are whole seconds: a session must outlast the second it was issued in.
    expect((await codeOf(authority.issue({ ...input, expiresAt: new Date(NOW.getTime() + 200) }, NOW))).code).toBe('InvalidRequest');
    expect((await codeOf(authority.issue({ ...input, expiresAt: new Date(NOW.getTime() + 1250) }, NOW))).code).toBe('none');
    expect((await codeOf(authority.issue({ ...input, subject: '' }, NOW))).code).toBe('InvalidRequest');
    expect((await codeOf(authority.issue({ ...input, expiresAt: new Date(Number.NaN) }, NOW))).code).toBe('InvalidRequest');
  });

  it('issues a session without a name and opens it without one', async () => {
    const { name: _name, ...anonymous } = input;
    const authority = createSessionAuthority({ current: K1 });
    const { credentials, claims } = await authority.issue(anonymous, NOW);
    expect('name' in claims).toBe(false);
    expect((await authority.open(credentials.accessKeyId, credentials.sessionToken, NOW)).claims).toEqual(claims);
  });

  it('refuses weak or ambiguous key rings', () => {
    const ring = (value: SessionKeyRing) => () => createSessionAuthority(value);
    expect(ring({ current: { id: 'short', secret: new Uint8Array(31) } })).toThrow(/shorter than 32 bytes/);
    expect(ring({ current: K1, previous: [{ id: 'k1', secret: K2.secret }] })).toThrow(/twice/);
    expect(ring({ current: { id: 'bad id', secret: K1.secret } })).toThrow(expect.objectContaining({ code: 'InvalidConfiguration' }) as AirlockError);
  });
});
