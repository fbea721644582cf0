import { randomBytes } from 'node:crypto';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { Decision, type DecideRequest } from '@airlock/contracts';
import { AirlockError } from '@airlock/errors';
import { createSessionAuthority, type VerifiedIdentity } from '@airlock/identity';
import { createLogger } from '@airlock/logging';
import { createEmbeddedStateStore, type StateStore } from '@airlock/state';
import type { EdgeDependencies } from './dependencies.js';
import { assumeRoleWithWebIdentity } from './sts-facade.js';

const NOW = new Date('2026-03-01T10:00:00Z');
const AGENT = 'arn:aws:iam::123456789012:role/agent';

function identity(overrides: Partial<VerifiedIdentity> = {}): VerifiedIdentity {
  return {
    issuer: 'https://idp.example.com',
    kind: 'people',
    subject: 'ada',
    audience: 'airlock',
    groups: ['engineers'],
    name: 'Ada L.',
    email: 'ada@example.com',
    expiresAt: new Date(NOW.getTime() + 7_200_000),
    roles: ['*'],
    claims: { sub: 'opaque-1' },
    ...overrides,
  };
}

describe('assumeRoleWithWebIdentity (STS facade)', () => {
  let state: StateStore;
  let policyRequests: DecideRequest[];
  let started: unknown[];

  beforeEach(async () => {
    state = await createEmbeddedStateStore();
    policyRequests = [];
    started = [];
  });
  afterEach(() => state.close());

  const deps = (verified: VerifiedIdentity, edgeMaxSessionSeconds = 3600): EdgeDependencies =>
    ({
      settings: { listen: '127.0.0.1:0', hosts: [], edgeId: 'edge-test', clockSkewSeconds: 900, maxSessionSeconds: edgeMaxSessionSeconds, partition: 'aws', allowedRegions: [], dependencyTimeoutMs: 5000 },
      logger: createLogger({ service: 'test', level: 'silent' }),
      tokens: { verify: async () => verified },
      sessions: createSessionAuthority({ current: { id: 'test', secret: randomBytes(32) } }),
      policy: {
        decide: async (request: DecideRequest) => {
          policyRequests.push(request);
          return { decision: Decision.DECISION_ALLOW, reason: '', policyIds: ['p'] };
        },
      },
      events: {
        record: async (_sessionId: string, body: unknown) => {
          started.push(body);
        },
      },
      state,
      now: () => NOW,
    }) as unknown as EdgeDependencies;

  const assume = (verified: VerifiedIdentity, params: Record<string, string> = {}, edgeMax?: number) =>
    assumeRoleWithWebIdentity({ WebIdentityToken: 'token', RoleArn: AGENT, RoleSessionName: 'test', ...params }, 'req-1', deps(verified, edgeMax), new AbortController().signal);
  const expiration = (xml: string) => new Date(/<Expiration>([^<]+)<\/Expiration>/.exec(xml)?.[1] ?? '').getTime();
  const seconds = (value: number) => NOW.getTime() + value * 1000;

  it('refuses a role the issuer may not use with AccessDenied, before policy is asked and without a session', async () => {
    const restricted = identity({ roles: ['arn:aws:iam::123456789012:role/people-*'] });
    const refusal = await assume(restricted).catch((error: unknown) => error);
    expect(refusal).toBeInstanceOf(AirlockError);
    expect(refusal).toMatchObject({ code: 'AccessDenied', message: expect.stringContaining('may not use this role') as string });
    expect(policyRequests).toEqual([]);
    expect(started).toEqual([]);
    await expect(assume(restricted, { RoleArn: 'arn:aws:iam::123456789012:role/people-admin' })).resolves.toContain('<AccessKeyId>');
    expect(policyRequests).toHaveLength(1);
  });

  it('hands policy the mapped identity: subject, groups, and e-mail or name', async () => {
    await assume(identity());
    await assume(identity({ kind: 'workloads', subject: 'system:serviceaccount:agents:billing', email: undefined, name: 'billing', groups: ['agents'] }));
    expect(policyRequests.map((request) => request.principal)).toEqual([
      expect.objectContaining({ subject: 'ada', groups: ['engineers'], name: 'ada@example.com' }),
      expect.objectContaining({ subject: 'system:serviceaccount:agents:billing', groups: ['agents'], name: 'billing' }),
    ]);
  });

  it('caps the session by the request, the edge, the issuer and the token, whichever is shortest', async () => {
    expect(expiration(await assume(identity(), { DurationSeconds: '43200' }))).toBe(seconds(3600)); // edge
    expect(expiration(await assume(identity({ expiresAt: new Date(seconds(5400)) }), { DurationSeconds: '43200' }, 7200))).toBe(seconds(5400)); // token
    expect(expiration(await assume(identity({ maxSessionSeconds: 1800 }), { DurationSeconds: '43200' }))).toBe(seconds(1800)); // issuer
    expect(expiration(await assume(identity({ maxSessionSeconds: 1800 }), { DurationSeconds: '900' }))).toBe(seconds(900)); // request
    expect(expiration(await assume(identity({ expiresAt: new Date(seconds(600)) })))).toBe(seconds(600)); // token
    expect(expiration(await assume(identity()))).toBe(seconds(3600)); // default request: one hour
  });

  it('refuses a token that verified within the clock tolerance but has no life left', async () => {
    for (const expiresAt of [new Date(seconds(-30)), new Date(NOW.getTime() + 500)]) {
      await expect(assume(identity({ expiresAt }))).rejects.toMatchObject({ code: 'ExpiredIdentityToken' });
    }
    expect(started).toEqual([]);
  });
});
