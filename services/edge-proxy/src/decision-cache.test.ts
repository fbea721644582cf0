import { describe, expect, it } from 'vitest';
import { Decision, type DecideRequest, type DecideResponse } from '@airlock/contracts';
import { DecisionCache, decisionKey } from './decision-cache.js';

const base: DecideRequest = {
  principal: { subject: 'agent-7', issuer: 'https://agents.example.com', groups: ['agents', 'readers'], sessionId: 'session-1', name: 'Agent 7' },
  call: {
    service: 's3',
    operation: 'GetObject',
    action: 's3:GetObject',
    resources: ['arn:aws:s3:::reports/q1.csv'],
    region: 'eu-west-1',
    roleArn: 'arn:aws:iam::123456789012:role/agent',
    parameters: { Bucket: 'reports', Key: 'q1.csv' },
  },
  context: { operationKnown: 'true', sourceIp: '10.0.0.1', principalKind: 'workloads', time: '2026-11-26T10:00:00.000Z', sessionAgeSeconds: '60' },
};

type Change = (request: DecideRequest) => DecideRequest;
const principal = (change: Partial<NonNullable<DecideRequest['principal']>>): Change => (request) => ({ ...request, principal: { ...request.principal!, ...change } });
const call = (change: Partial<NonNullable<DecideRequest['call']>>): Change => (request) => ({ ...request, call: { ...request.call!, ...change } });
const context = (change: Record<string, string>): Change => (request) => ({ ...request, context: { ...request.context, ...change } });

function response(version = 'sha256:0000000000000001', overrides: Partial<DecideResponse> = {}): DecideResponse {
  return { decision: Decision.DECISION_ALLOW, reason: 'Allowed', policyIds: ['p'], approval: undefined, obligations: undefined, policyVersion: version, dependsOnTime: false, ...overrides };
}

/** A policy service stand-in that counts the decisions it is asked for. */
function counting(answer: () => DecideResponse = () => response()) {
  let asked = 0;
  return {
    get asked() {
      return asked;
    },
    decide: async () => {
      asked++;
      return answer();
    },
  };
}

describe('decision cache key', () => {
  it.each<[string, Change]>([
    ['another subject', principal({ subject: 'agent-8' })],
    ['another issuer', principal({ issuer: 'https://people.example.com' })],
    ['the same subject at another issuer whose name ends where the subject begins', principal({ issuer: 'https://agents.example.comagent-7', subject: '' })],
    ['another session', principal({ sessionId: 'session-2' })],
    ['another name', principal({ name: 'Someone else' })],
    ['a group more', principal({ groups: ['agents', 'readers', 'admins'] })],
    ['a group less', principal({ groups: ['agents'] })],
    ['a group renamed so that the joined text stays the same', principal({ groups: ['agentsreaders'] })],
    ['another action', call({ action: 's3:PutObject', operation: 'PutObject' })],
    ['another operation with the same action', call({ operation: 'HeadObject' })],
    ['another service', call({ service: 's3-object-lambda' })],
    ['another resource', call({ resources: ['arn:aws:s3:::reports/q2.csv'] })],
    ['a resource more', call({ resources: ['arn:aws:s3:::reports/q1.csv', 'arn:aws:s3:::reports/q2.csv'] })],
    ['no resource', call({ resources: [] })],
    ['another region', call({ region: 'us-east-1' })],
    ['another role', call({ roleArn: 'arn:aws:iam::123456789012:role/admin' })],
    ['another parameter value', call({ parameters: { Bucket: 'reports', Key: 'q2.csv' } })],
    ['a parameter more (DryRun)', call({ parameters: { Bucket: 'reports', Key: 'q1.csv', DryRun: 'true' } })],
    ['a parameter less', call({ parameters: { Bucket: 'reports' } })],
    ['another source address', context({ sourceIp: '10.0.0.2' })],
    ['an unknown operation', context({ operationKnown: 'false' })],
    ['another principal kind', context({ principalKind: 'people' })],
    ['another context key', context({ colour: 'red' })],
  ])('differs for %s', (_name, change) => {
    expect(decisionKey(change(base))).not.toBe(decisionKey(base));
  });

  it.each<[string, Change]>([
    ['groups in another order', principal({ groups: ['readers', 'agents'] })],
    ['a group named twice', principal({ groups: ['agents', 'readers', 'agents'] })],
    ['parameters in another order', call({ parameters: { Key: 'q1.csv', Bucket: 'reports' } })],
    ['a later time and an older session (decisions that read them are never cached)', context({ time: '2026-11-26T10:05:00.000Z', sessionAgeSeconds: '360' })],
  ])('is the same for %s', (_name, change) => {
    expect(decisionKey(change(base))).toBe(decisionKey(base));
  });
});

describe('decision cache', () => {
  it('answers an identical request from the cache, and asks again for any other', async () => {
    const cache = new DecisionCache({ ttlSeconds: 5, maxEntries: 100 });
    const policy = counting();
    expect(await cache.decide(base, policy.decide)).toEqual(response());
    expect(await cache.decide({ ...base }, policy.decide)).toEqual(response());
    expect(policy.asked).toBe(1);
    await cache.decide(principal({ subject: 'agent-8' })(base), policy.decide);
    expect(policy.asked).toBe(2);
    expect(cache.stats).toEqual({ hits: 1, misses: 2, size: 2 });
  });

  it('never serves a decision of another policy version: a decision of a new version empties the cache', async () => {
    const cache = new DecisionCache({ ttlSeconds: 60, maxEntries: 100 });
    let version = 'sha256:0000000000000001';
    const policy = counting(() => response(version));
    const other = call({ resources: ['arn:aws:s3:::reports/q2.csv'] })(base);
    await cache.decide(base, policy.decide);
    await cache.decide(other, policy.decide);
    version = 'sha256:0000000000000002';
    // Another request reaches the reloaded policy service first; the old set's decisions are gone with it.
    expect((await cache.decide(principal({ sessionId: 'session-9' })(base), policy.decide)).policyVersion).toBe(version);
    expect((await cache.decide(base, policy.decide)).policyVersion).toBe(version);
    expect((await cache.decide(other, policy.decide)).policyVersion).toBe(version);
    expect(policy.asked).toBe(5);
  });

  it('keeps a decision for ttlSeconds, so that a reload reaches the edge within that time', async () => {
    let now = 1_000_000;
    const cache = new DecisionCache({ ttlSeconds: 2, maxEntries: 100 }, () => now);
    const policy = counting();
    await cache.decide(base, policy.decide);
    now += 1_999;
    await cache.decide(base, policy.decide);
    expect(policy.asked).toBe(1);
    now += 1;
    await cache.decide(base, policy.decide);
    expect(policy.asked).toBe(2);
  });

  it.each<[string, DecideResponse]>([
    ['decisions that depend on the time', response(undefined, { dependsOnTime: true })],
    ['decisions without a policy version', response('')],
  ])('does not keep %s', async (_name, answer) => {
    const cache = new DecisionCache({ ttlSeconds: 60, maxEntries: 100 });
    const policy = counting(() => answer);
    await cache.decide(base, policy.decide);
    await cache.decide(base, policy.decide);
    expect(policy.asked).toBe(2);
  });

  it('keeps denials and approval requirements too (approval still happens at the edge for every call)', async () => {
    for (const decision of [Decision.DECISION_DENY, Decision.DECISION_APPROVAL_REQUIRED]) {
      const cache = new DecisionCache({ ttlSeconds: 60, maxEntries: 100 });
      const policy = counting(() => response(undefined, { decision }));
      await cache.decide(base, policy.decide);
      expect((await cache.decide(base, policy.decide)).decision).toBe(decision);
      expect(policy.asked).toBe(1);
    }
  });

  it('keeps nothing of a failed decision: the next identical request asks again', async () => {
    const cache = new DecisionCache({ ttlSeconds: 60, maxEntries: 100 });
    await expect(cache.decide(base, () => Promise.reject(new Error('policy unavailable')))).rejects.toThrow('policy unavailable');
    const policy = counting();
    await cache.decide(base, policy.decide);
    expect(policy.asked).toBe(1);
  });

  it('holds at most maxEntries, dropping the oldest', async () => {
    const cache = new DecisionCache({ ttlSeconds: 60, maxEntries: 2 });
    const policy = counting();
    const requests = ['a', 'b', 'c'].map((sessionId) => principal({ sessionId })(base));
    for (const request of requests) await cache.decide(request, policy.decide);
    expect(cache.stats.size).toBe(2);
    await cache.decide(requests[2]!, policy.decide);
    await cache.decide(requests[1]!, policy.decide);
    expect(policy.asked).toBe(3);
    await cache.decide(requests[0]!, policy.decide);
    expect(policy.asked).toBe(4);
  });

  it('asks every time when turned off (ttlSeconds 0)', async () => {
    const cache = new DecisionCache({ ttlSeconds: 0, maxEntries: 100 });
    const policy = counting();
    await cache.decide(base, policy.decide);
    await cache.decide(base, policy.decide);
    expect(policy.asked).toBe(2);
  });
});
