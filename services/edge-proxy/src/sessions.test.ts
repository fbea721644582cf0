import { randomUUID } from 'node:crypto';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { SessionClaims } from '@airlock/identity';
import { createEmbeddedStateStore, type StateStore } from '@airlock/state';
import { createRevocationCheck } from './revocations.js';
import { createSessionRegistry, type SessionRegistry } from './session-registry.js';
import { revokedSessionKey, revokedSubjectKey, subjectIndexPrefix } from './state-keys.js';

const start = 1_700_000_000_000;
const issuer = 'https://idp.example.com';

/** The embedded store, counting reads and able to fail like an unreachable Redis. */
function instrumented(inner: StateStore) {
  const probe = { reads: 0, down: false };
  const fail = () => {
    if (probe.down) throw new Error('connect ECONNREFUSED 10.0.0.1:6379');
  };
  const store: StateStore = {
    async get(key) {
      fail();
      probe.reads += 1;
      return inner.get(key);
    },
    async set(key, value, options) {
      fail();
      return inner.set(key, value, options);
    },
    async compareAndSet(key, expected, value, options) {
      fail();
      return inner.compareAndSet(key, expected, value, options);
    },
    async delete(key) {
      fail();
      return inner.delete(key);
    },
    async increment(key, options) {
      fail();
      return inner.increment(key, options);
    },
    scan(prefix) {
      fail();
      return inner.scan(prefix);
    },
    close: () => inner.close(),
  };
  return { store, probe };
}

function claims(overrides: Partial<SessionClaims> = {}): SessionClaims {
  return {
    sessionId: randomUUID(),
    subject: 'agent',
    issuer,
    groups: ['agents'],
    roleArn: 'arn:aws:iam::123456789012:role/agent',
    roleSessionName: 'test',
    accessKeyId: 'ALSATEST',
    issuedAt: new Date(start),
    expiresAt: new Date(start + 3_600_000),
    ...overrides,
  };
}

let inner: StateStore;
let state: StateStore;
let probe: { reads: number; down: boolean };
let clock: number;
let registry: SessionRegistry;

beforeEach(async () => {
  inner = await createEmbeddedStateStore();
  ({ store: state, probe } = instrumented(inner));
  clock = start + 1_000;
  registry = createSessionRegistry(state, { edgeId: 'edge-1', maxSessionSeconds: 3600, now: () => new Date(clock) });
});

afterEach(async () => {
  await inner.close();
});

describe('the revocation check', () => {
  it('costs one read per session and one per principal per interval, shared by concurrent calls', async () => {
    const check = createRevocationCheck(state, { cacheMs: 2_000, now: () => clock });
    const session = claims();
    await Promise.all(Array.from({ length: 20 }, () => check.assertNotRevoked(session)));
    expect(probe.reads).toBe(2);
    await check.assertNotRevoked(claims({ subject: 'agent' }));
    expect(probe.reads).toBe(3);
    clock += 2_001;
    await check.assertNotRevoked(session);
    expect(probe.reads).toBe(5);
  });

  it('sees a revocation by id once its cached answer expires', async () => {
    const check = createRevocationCheck(state, { cacheMs: 2_000, now: () => clock });
    const session = claims();
    await check.assertNotRevoked(session);
    await registry.revokeSession(recordOf(session));
    await check.assertNotRevoked(session);
    clock += 2_001;
    await expect(check.assertNotRevoked(session)).rejects.toMatchObject({ code: 'ExpiredSession' });
  });

  it('revokes by principal the sessions issued at or before the revocation, in the whole second', async () => {
    const check = createRevocationCheck(state, { cacheMs: 2_000, now: () => clock });
    await state.set(revokedSubjectKey(issuer, 'agent'), String(start + 500));
    await expect(check.assertNotRevoked(claims({ issuedAt: new Date(start) }))).rejects.toMatchObject({ code: 'ExpiredSession' });
    await expect(check.assertNotRevoked(claims({ issuedAt: new Date(start + 1_000) }))).resolves.toBeUndefined();
    // Another issuer's principal with the same subject is another principal.
    await expect(check.assertNotRevoked(claims({ issuer: 'https://other.example.com', issuedAt: new Date(start) }))).resolves.toBeUndefined();
  });

  it('applies what this edge remembers at once', async () => {
    const check = createRevocationCheck(state, { cacheMs: 2_000, now: () => clock });
    const session = claims();
    await check.assertNotRevoked(session);
    check.remember(revokedSessionKey(session.sessionId), String(clock));
    await expect(check.assertNotRevoked(session)).rejects.toMatchObject({ code: 'ExpiredSession' });
  });

  it('fails closed, without naming the store, and asks again once the store is back', async () => {
    const check = createRevocationCheck(state, { cacheMs: 2_000, now: () => clock });
    const session = claims();
    probe.down = true;
    const refused = await check.assertNotRevoked(session).catch((error: unknown) => error);
    expect(refused).toMatchObject({ code: 'DependencyUnavailable' });
    expect((refused as Error).message).not.toContain('10.0.0.1');
    probe.down = false;
    await expect(check.assertNotRevoked(session)).resolves.toBeUndefined();
  });
});

describe('the session registry', () => {
  it('lists live sessions by principal through its index, and never expired ones', async () => {
    const mine = claims({ issuedAt: new Date(start), expiresAt: new Date(start + 60_000) });
    const later = claims({ issuedAt: new Date(start + 2_000), expiresAt: new Date(start + 3_600_000) });
    // A subject that extends another's index prefix must not show up in its listing.
    const other = claims({ subject: 'agent:x' });
    const foreign = claims({ issuer: 'https://other.example.com' });
    for (const session of [mine, later, other, foreign]) await registry.record(session);
    expect(subjectIndexPrefix(issuer, 'agent')).toBe('session-by-subject:https%3A%2F%2Fidp.example.com#agent:');

    const listed = await registry.list({ issuer, subject: 'agent' });
    expect(listed.map((session) => session.sessionId)).toEqual([mine.sessionId, later.sessionId]);
    expect(listed[0]).toEqual({
      sessionId: mine.sessionId,
      subject: 'agent',
      issuer,
      name: null,
      groups: ['agents'],
      roleArn: mine.roleArn,
      roleSessionName: 'test',
      issuedAt: new Date(start).toISOString(),
      expiresAt: new Date(start + 60_000).toISOString(),
      edgeId: 'edge-1',
      revoked: false,
    });
    expect((await registry.list({ subject: 'agent' })).map((session) => session.issuer).sort()).toEqual([issuer, issuer, 'https://other.example.com']);
    expect(await registry.list()).toHaveLength(4);

    clock = start + 60_000;
    expect((await registry.list({ issuer, subject: 'agent' })).map((session) => session.sessionId)).toEqual([later.sessionId]);
    expect(await registry.get(mine.sessionId)).toBeUndefined();
  });

  it('revokes a principal: answers its live sessions, marks them, and never lowers an earlier revocation time', async () => {
    const first = claims();
    const second = claims({ issuedAt: new Date(start + 1_000) });
    await registry.record(first);
    await registry.record(second);
    const { sessionIds, written } = await registry.revokeSubject(issuer, 'agent');
    expect(sessionIds.sort()).toEqual([first.sessionId, second.sessionId].sort());
    expect(written).toEqual({ key: revokedSubjectKey(issuer, 'agent'), value: String(clock) });
    expect((await registry.list()).every((session) => session.revoked)).toBe(true);

    const behind = createSessionRegistry(state, { edgeId: 'edge-2', maxSessionSeconds: 3600, now: () => new Date(clock - 30_000) });
    expect((await behind.revokeSubject(issuer, 'agent')).written.value).toBe(String(clock));
  });

  it('refuses to record a session when the store is down', async () => {
    probe.down = true;
    await expect(registry.record(claims())).rejects.toMatchObject({ code: 'DependencyUnavailable' });
    await expect(registry.list()).rejects.toMatchObject({ code: 'DependencyUnavailable' });
  });
});

function recordOf(session: SessionClaims) {
  return {
    sessionId: session.sessionId,
    subject: session.subject,
    issuer: session.issuer,
    name: null,
    groups: session.groups,
    roleArn: session.roleArn,
    roleSessionName: session.roleSessionName,
    issuedAt: session.issuedAt.toISOString(),
    expiresAt: session.expiresAt.toISOString(),
    edgeId: 'edge-1',
  };
}
