/**
 * Credential vending's cost (issue 6): STS calls per 10,000 Vend requests over a simulated hour (injected clock),
 * and the latency a cache hit adds, in process and from the shared cache in redis-server, against a cache miss that
 * goes to STS (bench/fake-aws.ts over HTTP with the AWS SDK).
 */
import { randomBytes } from 'node:crypto';
import { mkdir, writeFile } from 'node:fs/promises';
import { cpus, totalmem } from 'node:os';
import { performance } from 'node:perf_hooks';
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { VendRequest } from '@airlock/contracts';
import { createAwsSts, createCredentialVendingService, type AssumeRoleInput, type Sts } from '@airlock/credential-vending';
import { createLogger } from '@airlock/logging';
import { createRedisStateStore, type StateStore } from '@airlock/state';
import { bindInProcess } from '@airlock/transport';
import { startRedis, type Peer } from '../tests/support/peers.js';
import { startFakeAws, type FakeAws } from './fake-aws.js';

const logger = createLogger({ service: 'credential-vending', level: 'silent' });
const roleArn = 'arn:aws:iam::123456789012:role/agent';
const keys = `bench:${randomBytes(32).toString('base64')}`;
const requestsPerHour = 10_000;
const distinctSessions = 50;

let redis: Peer;
let fakeAws: FakeAws;
const stores: StateStore[] = [];
const closers: Array<() => Promise<void>> = [];
const report: Record<string, unknown> = {};
const savedEnv = { ...process.env };

beforeAll(async () => {
  [redis, fakeAws] = await Promise.all([startRedis(), startFakeAws()]);
  Object.assign(process.env, { AWS_ACCESS_KEY_ID: 'bench', AWS_SECRET_ACCESS_KEY: 'bench', AWS_REGION: 'us-east-1' });
});

afterAll(async () => {
  await Promise.all(closers.map((close) => close()));
  await Promise.all(stores.map((store) => store.close()));
  await Promise.all([redis?.stop(), fakeAws?.stop()]);
  process.env = savedEnv;
  await mkdir('bench/results', { recursive: true });
  await writeFile(
    'bench/results/vending.json',
    `${JSON.stringify({ date: new Date().toISOString(), machine: { cpus: cpus().length, model: cpus()[0]?.model, memoryGiB: Math.round(totalmem() / 2 ** 30), node: process.version }, ...report }, null, 2)}\n`,
  );
});

const request = (session: number): VendRequest => ({
  principal: { subject: `agent-${session % 10}@example.com`, issuer: 'https://idp.example', groups: ['agents'], sessionId: `s-${session}`, name: '' },
  roleArn,
  sessionPolicy: '',
  maxDurationSeconds: 0,
  approvalId: '',
  region: 'us-east-1',
  notAfterMs: 0,
});

/** STS that answers at once, with an expiry on the simulated clock, and counts. */
function simulatedSts(now: () => number) {
  const sts = {
    calls: 0,
    async assumeRole(input: AssumeRoleInput) {
      sts.calls++;
      return { accessKeyId: `ASIA${sts.calls}`, secretAccessKey: 'x', sessionToken: 'y', expirationMs: now() + input.durationSeconds * 1000 };
    },
  };
  return sts;
}

async function store(): Promise<StateStore> {
  const opened = await createRedisStateStore({ url: redis.url, keyPrefix: `bench-${randomBytes(4).toString('hex')}:` });
  stores.push(opened);
  return opened;
}

async function vendingClient(sts: Sts, options: { now?: () => number; durationSeconds?: number; shared?: StateStore } = {}) {
  const shared = options.shared;
  const runtime = await createCredentialVendingService({
    region: 'us-east-1',
    durationSeconds: options.durationSeconds ?? 900,
    logger,
    sts,
    ...(options.now ? { now: options.now } : {}),
    ...(shared ? { sharedCache: { store: async () => shared, keys, keySource: 'bench' } } : {}),
  });
  closers.push(() => runtime.close());
  return bindInProcess(runtime.definition, runtime.implementation);
}

/** A seeded generator of numbers in [0, 1), so every run simulates the same hour. */
function seeded(seed: number): () => number {
  let state = seed;
  return () => (state = (state * 1_103_515_245 + 12_345) % 2 ** 31) / 2 ** 31;
}

/** A deterministic hour: 10,000 requests at seeded random instants, each for one of 50 agent sessions. */
function simulatedHour(seed = 42): Array<{ atMs: number; session: number }> {
  const random = seeded(seed);
  return Array.from({ length: requestsPerHour }, () => ({ atMs: Math.floor(random() * 3_600_000), session: Math.floor(random() * distinctSessions) }))
    .sort((a, b) => a.atMs - b.atMs);
}

it('STS calls per 10,000 Vend requests over a simulated hour', async () => {
  const hour = simulatedHour();
  const scenarios: Record<string, number> = {};
  for (const durationSeconds of [900, 3600]) {
    for (const [name, instances, shared] of [
      ['one instance', 1, false],
      ['two instances, in-process caches only', 2, false],
      ['two instances, shared Redis cache', 2, true],
    ] as const) {
      let now = Date.parse('2026-11-26T00:00:00Z');
      const clock = () => now;
      const sts = simulatedSts(clock);
      const sharedStore = shared ? await store() : undefined;
      const clients = await Promise.all(
        Array.from({ length: instances }, () => vendingClient(sts, { now: clock, durationSeconds, ...(sharedStore ? { shared: sharedStore } : {}) })),
      );
      const start = now;
      for (const [index, { atMs, session }] of hour.entries()) {
        now = start + atMs;
        await clients[index % instances]!.vend(request(session));
      }
      scenarios[`${name}, ${durationSeconds} s credentials`] = sts.calls;
    }
  }
  report.stsCallsPer10kRequestsPerHour = { requests: requestsPerHour, distinctSessions, noCache: requestsPerHour, ...scenarios };
  console.log(report.stsCallsPer10kRequestsPerHour);
  expect(scenarios['two instances, shared Redis cache, 900 s credentials']).toBe(scenarios['one instance, 900 s credentials']);
});

/**
 * What the agents call: three services, three actions each, ten resources each, drawn at random per request. The
 * session policy of each call is what policy's obligations hold for it (services/policy session-policy.ts): nothing
 * for `role` scope, the call's service on any resource for `service` scope (the default for allowed calls), the action
 * on the call's resource for `action` scope (always for approved calls).
 */
const callMix = ['s3', 'dynamodb', 'sqs'].flatMap((service) =>
  ['Get', 'List', 'Put'].flatMap((verb) => Array.from({ length: 10 }, (_, i) => ({ service, action: `${service}:${verb}Item`, resource: `arn:aws:${service}:::thing-${i}` }))),
);
type Scope = 'role' | 'service' | 'action';
const sessionPolicyOf = (scope: Scope, call: (typeof callMix)[number]): string =>
  scope === 'role'
    ? ''
    : JSON.stringify({
        Version: '2012-10-17',
        Statement: [
          { Sid: 'Airlock', Effect: 'Allow', Action: scope === 'service' ? [`${call.service}:*`] : [call.action], Resource: scope === 'service' ? ['*'] : [call.resource] },
        ],
      });

it('STS calls per 10,000 Vend requests over a simulated hour: credential scope and session ends', async () => {
  const random = seeded(7);
  const hour = simulatedHour().map((entry) => ({ ...entry, call: callMix[Math.floor(random() * callMix.length)]! }));
  // Each of the 50 agents' sessions ends at a random instant of the hour; the agent then signs in again (a new session).
  // Whole seconds, as Airlock sessions end.
  const sessionEnds = Array.from({ length: distinctSessions }, () => Math.floor(random() * 3_600) * 1000);
  const scenarios: Record<string, number> = {};
  for (const scope of ['role', 'service', 'action'] as const) {
    for (const bounded of [false, true]) {
      let now = Date.parse('2026-11-26T00:00:00Z');
      const start = now;
      const sts = simulatedSts(() => now);
      const vending = await vendingClient(sts, { now: () => now });
      for (const { atMs, session, call } of hour) {
        now = start + atMs;
        const renewed = atMs >= sessionEnds[session]!;
        const base = request(session);
        await vending.vend({
          ...base,
          principal: { ...base.principal!, sessionId: `s-${session}-${renewed ? 2 : 1}` },
          sessionPolicy: sessionPolicyOf(scope, call),
          // The second session outlives the hour.
          notAfterMs: bounded ? (renewed ? start + 2 * 3_600_000 : start + sessionEnds[session]!) : 0,
        });
      }
      scenarios[`${scope} scope${bounded ? ', bounded by session ends' : ''}`] = sts.calls;
    }
  }
  report.stsCallsByScope = {
    requests: requestsPerHour,
    agents: distinctSessions,
    distinctCalls: callMix.length,
    credentialSeconds: 900,
    note: 'one instance; each agent session ends at a random instant of the hour and is followed by a new one',
    ...scenarios,
  };
  console.log(report.stsCallsByScope);
  expect(scenarios['action scope']).toBeGreaterThan(scenarios['service scope']!);
});

function summary(samplesMs: number[]) {
  const sorted = [...samplesMs].sort((a, b) => a - b);
  const at = (q: number) => Number((sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]! * 1000).toFixed(1));
  return { samples: sorted.length, p50Us: at(0.5), p90Us: at(0.9), p99Us: at(0.99), maxUs: at(1) };
}

async function timed(samples: number, call: (i: number) => Promise<unknown>): Promise<number[]> {
  const out: number[] = [];
  for (let i = 0; i < samples; i++) {
    const started = performance.now();
    await call(i);
    out.push(performance.now() - started);
  }
  return out;
}

it('added latency of a cache hit', async () => {
  const sdkSts = createAwsSts({ region: 'us-east-1', endpoint: fakeAws.url });
  closers.push(async () => sdkSts.close?.());
  const sharedStore = await store();

  // In-process hit: the same key again and again.
  const local = await vendingClient(sdkSts);
  await local.vend(request(0));
  await timed(2_000, () => local.vend(request(0)));
  const inProcess = summary(await timed(20_000, () => local.vend(request(0))));

  // Shared hit: instance A fills Redis; instance B has never seen the keys, so each of its first calls reads Redis.
  const keysToShare = 2_000;
  const writer = await vendingClient(sdkSts, { shared: sharedStore });
  for (let i = 0; i < keysToShare; i++) await writer.vend(request(1_000 + i));
  const callsBefore = fakeAws.assumeRoleCalls();
  const reader = await vendingClient(sdkSts, { shared: sharedStore });
  const sharedHit = summary(await timed(keysToShare, (i) => reader.vend(request(1_000 + i))));
  expect(fakeAws.assumeRoleCalls()).toBe(callsBefore);

  // Miss: AssumeRole over HTTP to the constant-answer fake STS, and through the shared cache (lock, STS, sealed write).
  const missLocal = await vendingClient(sdkSts);
  await missLocal.vend(request(50_000));
  const missInProcess = summary(await timed(1_000, (i) => missLocal.vend(request(100_000 + i))));
  const missShared = await vendingClient(sdkSts, { shared: sharedStore });
  const missWithShared = summary(await timed(1_000, (i) => missShared.vend(request(200_000 + i))));

  report.latency = {
    note: 'time of one Vend call through the in-process binding; µs',
    inProcessHit: inProcess,
    sharedRedisHit: sharedHit,
    missToFakeSts: missInProcess,
    missToFakeStsWithSharedCache: missWithShared,
  };
  console.log(report.latency);
});
