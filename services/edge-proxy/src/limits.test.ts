import { afterEach, describe, expect, it, vi } from 'vitest';
import { renderError } from '@airlock/aws-protocol';
import { AirlockError } from '@airlock/errors';
import { createLogger } from '@airlock/logging';
import type { StateStore } from '@airlock/state';
import { createCallLimits } from './limits.js';

const logger = createLogger({ service: 'test', level: 'silent' });
const alice = { issuer: 'https://idp', subject: 'alice', roleArn: 'arn:aws:iam::123456789012:role/agent' };
const bob = { issuer: 'https://idp', subject: 'bob', roleArn: 'arn:aws:iam::123456789012:role/agent' };

const refusal = async (work: () => unknown): Promise<AirlockError> => {
  try {
    await work();
  } catch (error) {
    if (error instanceof AirlockError) return error;
    throw error;
  }
  throw new Error('not refused');
};

describe('call limits', () => {
  afterEach(() => vi.useRealTimers());

  it('lets a principal burst, then refills at its rate, and leaves other principals alone', async () => {
    let nowMs = 0;
    const limits = createCallLimits({ maxConcurrentCalls: 0, principal: { ratePerSecond: 2, burst: 3 }, shared: false }, undefined, logger, () => nowMs);
    for (let call = 0; call < 3; call++) await limits.charge(alice, 'json');
    expect((await refusal(() => limits.charge(alice, 'json'))).code).toBe('Throttled');
    await limits.charge(bob, 'json');
    nowMs += 500; // one token back at 2 per second
    await limits.charge(alice, 'json');
    expect((await refusal(() => limits.charge(alice, 'json'))).details).toEqual({ limit: 'principal' });
  });

  it('limits a role across the principals that use it', async () => {
    const limits = createCallLimits({ maxConcurrentCalls: 0, role: { ratePerSecond: 1, burst: 2 }, shared: false }, undefined, logger, () => 0);
    await limits.charge(alice, 'query');
    await limits.charge(bob, 'query');
    expect((await refusal(() => limits.charge(bob, 'query'))).details).toEqual({ limit: 'role' });
  });

  it('sheds calls beyond the concurrency limit until a slot is given back', async () => {
    const limits = createCallLimits({ maxConcurrentCalls: 2, shared: false }, undefined, logger);
    const first = limits.admit('rest-xml');
    const second = limits.admit('rest-xml');
    expect((await refusal(() => limits.admit('rest-xml'))).code).toBe('SlowDown');
    first();
    first(); // giving a slot back twice frees it once
    const third = limits.admit('ec2');
    expect((await refusal(() => limits.admit('ec2'))).code).toBe('RequestLimitExceeded');
    second();
    third();
  });

  it.each([
    ['rest-xml', 503, 'SlowDown'],
    ['ec2', 503, 'RequestLimitExceeded'],
    ['query', 400, 'Throttling'],
    ['json', 400, 'ThrottlingException'],
    ['rest-json', 400, 'ThrottlingException'],
  ] as const)('refuses %s calls with the throttling error AWS sends (%i %s)', async (protocol, status, code) => {
    const limits = createCallLimits({ maxConcurrentCalls: 1, shared: false }, undefined, logger);
    limits.admit(protocol);
    const rendered = renderError(await refusal(() => limits.admit(protocol)), protocol, 'req-1');
    expect(rendered.status).toBe(status);
    expect(rendered.body + JSON.stringify(rendered.headers)).toContain(code);
  });

  it('counts shared rates in one-second windows, and falls back to its own bucket when the store fails', async () => {
    const counts = new Map<string, number>();
    let failing = false;
    const state = {
      async increment(key: string) {
        if (failing) throw new Error('redis down');
        counts.set(key, (counts.get(key) ?? 0) + 1);
        return counts.get(key)!;
      },
    } as unknown as StateStore;
    // Two edges, one store: together they admit ratePerSecond calls per (wall-clock) window.
    vi.useFakeTimers({ toFake: ['Date'] });
    vi.setSystemTime(new Date('2026-01-01T00:00:00.100Z'));
    const edges = [0, 1].map(() => createCallLimits({ maxConcurrentCalls: 0, principal: { ratePerSecond: 3, burst: 3 }, shared: true }, state, logger, () => 0));
    const results = await Promise.allSettled([0, 1, 2, 3].map((call) => edges[call % 2]!.charge(alice, 'json')));
    expect(results.filter((result) => result.status === 'rejected')).toHaveLength(1);
    vi.setSystemTime(new Date('2026-01-01T00:00:01.100Z'));
    await edges[1]!.charge(alice, 'json').catch(() => undefined);
    expect([...counts.values()]).toEqual([4, 1]);
    expect([...counts.keys()].every((key) => !key.includes('alice'))).toBe(true);
    failing = true;
    const lone = createCallLimits({ maxConcurrentCalls: 0, principal: { ratePerSecond: 1, burst: 1 }, shared: true }, state, logger, () => 0);
    await lone.charge(bob, 'json');
    expect((await refusal(() => lone.charge(bob, 'json'))).code).toBe('Throttled');
  });
});
