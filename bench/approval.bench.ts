import { randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { cpus, tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { HeadBucketCommand, S3Client } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { ApprovalsResponse } from '@airlock/edge-proxy';
import { assumeThroughAirlock } from '../tests/support/agent-credentials.js';
import { startDistributedAirlock, startEmbeddedAirlock, type AirlockUnderTest } from '../tests/support/airlock.js';
import { startNats, startRedis, type Peer } from '../tests/support/peers.js';
import { signInPolicy, writePolicyFile } from '../tests/support/policies.js';
import { startTokenForge, type TokenForge } from '../tests/support/token-forge.js';
import { startFakeAws, type FakeAws } from './fake-aws.js';
import { summarize, type LatencySummary } from './load.js';

const rounds = Number(process.env.BENCH_APPROVAL_ROUNDS ?? 200);
const warmup = 20;
const roleArn = 'arn:aws:iam::123456789012:role/agent';

/**
 * The same call, S3 HeadBucket (IAM action s3:ListBucket), twice over: by an agent whose calls need a manager's
 * approval (group held-agents), and by one whose calls do not. An @approval permit gates what it covers even beside
 * the plain permit.
 */
const policies = [
  signInPolicy,
  `@id("bench-head-bucket")
permit (principal, action == Airlock::Action::"s3:ListBucket", resource);
`,
  `@id("bench-head-bucket-needs-a-manager")
@approval("managers")
permit (principal in Airlock::Group::"held-agents", action == Airlock::Action::"s3:ListBucket", resource);
`,
];

interface ModeResult {
  /** Approving vote acknowledged (the admin API's answer read) → the held call's request arrives at the upstream. */
  voteAckToUpstream: LatencySummary & { minMs: number };
  /** Approving vote sent → the held call arrives at the upstream. */
  voteSentToUpstream: LatencySummary;
  /** The vote's own round trip through the admin API. */
  voteRoundTrip: LatencySummary;
  /** Baseline: the same call without approval, from the client's send to its arrival at the upstream. */
  unheldSendToUpstream: LatencySummary;
}

let scratch: string;
let forge: TokenForge;
let upstream: FakeAws;
let peers: Peer[] = [];
const arrivalWaiters = new Map<string, (atMs: number) => void>();
const results: Record<string, ModeResult> = {};

beforeAll(async () => {
  scratch = await mkdtemp(join(tmpdir(), 'airlock-approval-bench-'));
  [forge, upstream] = await Promise.all([
    startTokenForge(),
    // Keyed by path without query or trailing slash: the edge sends HeadBucket as `/<bucket>/`.
    startFakeAws({ onArrival: ({ url, atMs }) => arrivalWaiters.get((url.split('?')[0] ?? '').replace(/\/$/, ''))?.(atMs) }),
  ]);
});

afterAll(async () => {
  await Promise.all([upstream?.stop(), forge?.stop(), ...peers.map((peer) => peer.stop())]);
  if (scratch) await rm(scratch, { recursive: true, force: true });
  const report = {
    machine: { cpus: cpus().length, model: cpus()[0]?.model, memoryGiB: Math.round(totalmem() / 2 ** 30), node: process.version },
    rounds,
    warmup,
    results,
    ratios: Object.fromEntries(
      Object.entries(results).map(([mode, result]) => [
        mode,
        {
          p50: ratio(result.voteAckToUpstream.p50Ms, result.unheldSendToUpstream.p50Ms),
          p99: ratio(result.voteAckToUpstream.p99Ms, result.unheldSendToUpstream.p99Ms),
        },
      ]),
    ),
  };
  await mkdir('bench/results', { recursive: true });
  await writeFile('bench/results/approval.json', `${JSON.stringify(report, null, 2)}\n`);
  console.log(JSON.stringify(report, null, 2));
});

/** Resolves with the time the upstream saw a request for `path`; registered before the call is made. */
function arrivalAt(path: string): Promise<number> {
  return new Promise((resolve) => {
    arrivalWaiters.set(path, (atMs) => {
      arrivalWaiters.delete(path);
      resolve(atMs);
    });
  });
}

const config = async () => ({
  identity: { issuers: [{ issuer: forge.issuer, audience: 'airlock' }] },
  upstream: { endpoint: upstream.url },
  policy: { files: [await writePolicyFile(scratch, 'approval-bench.cedar', policies)] },
  edge: { approvalWaitSeconds: 60 },
  logging: { level: 'warn' },
});
const env = () => ({ AWS_ACCESS_KEY_ID: 'bench', AWS_SECRET_ACCESS_KEY: 'bench', AWS_REGION: 'us-east-1', AIRLOCK_SESSION_KEYS: `bench:${randomBytes(32).toString('base64')}` });

const tokenFor = (sub: string, groups: string[]) => forge.sign({ sub, aud: 'airlock', groups, exp: Math.floor(Date.now() / 1000) + 3600 });

async function agentClient(airlock: AirlockUnderTest, sub: string, groups: string[]): Promise<S3Client> {
  const credentials = await assumeThroughAirlock(airlock.url, roleArn, await tokenFor(sub, groups), sub);
  return new S3Client({ region: 'us-east-1', endpoint: airlock.url, forcePathStyle: true, maxAttempts: 1, credentials });
}

async function measure(airlock: AirlockUnderTest, mode: string): Promise<ModeResult> {
  const held = await agentClient(airlock, 'bench-held-agent', ['held-agents']);
  const unheld = await agentClient(airlock, 'bench-agent', []);
  const managerToken = await tokenFor('bench-manager', ['managers']);
  const api = (path: string, init: RequestInit = {}) =>
    fetch(`${airlock.url}/_airlock/api/v1/${path}`, { ...init, headers: { authorization: `Bearer ${managerToken}`, 'content-type': 'application/json' } });

  const pendingApprovalFor = async (bucket: string): Promise<string> => {
    for (let attempt = 0; attempt < 5_000; attempt++) {
      const { approvals } = (await (await api('approvals?status=pending')).json()) as ApprovalsResponse;
      const found = approvals.find((approval) => approval.resources.includes(`arn:aws:s3:::${bucket}`));
      if (found) return found.id;
      await sleep(2);
    }
    throw new Error(`no pending approval for ${bucket}`);
  };

  const voteAckToUpstream: number[] = [];
  const voteSentToUpstream: number[] = [];
  const voteRoundTrip: number[] = [];
  const unheldSendToUpstream: number[] = [];
  for (let round = 0; round < warmup + rounds; round++) {
    // Held: a new bucket each round, so each call asks for an approval of its own.
    const heldBucket = `held-${mode}-${round}`;
    const heldArrival = arrivalAt(`/${heldBucket}`);
    const call = held.send(new HeadBucketCommand({ Bucket: heldBucket }));
    // A call refused instead of held ends the run with its own error.
    const approvalId = await Promise.race([pendingApprovalFor(heldBucket), call.then(() => Promise.reject(new Error('the call was not held')))]);
    const sent = performance.now();
    const vote = await api(`approvals/${approvalId}/approve`, { method: 'POST', body: '{}' });
    await vote.json();
    const acknowledged = performance.now();
    if (vote.status !== 200) throw new Error(`the vote was refused with ${vote.status}`);
    await call;
    const heldAt = await heldArrival;

    const unheldBucket = `unheld-${mode}-${round}`;
    const unheldArrival = arrivalAt(`/${unheldBucket}`);
    const started = performance.now();
    await unheld.send(new HeadBucketCommand({ Bucket: unheldBucket }));
    const unheldAt = await unheldArrival;

    if (round < warmup) continue;
    voteAckToUpstream.push(heldAt - acknowledged);
    voteSentToUpstream.push(heldAt - sent);
    voteRoundTrip.push(acknowledged - sent);
    unheldSendToUpstream.push(unheldAt - started);
  }
  held.destroy();
  unheld.destroy();
  const ackToUpstream = summarize(voteAckToUpstream);
  return {
    voteAckToUpstream: { ...ackToUpstream, minMs: Math.round((voteAckToUpstream[0] ?? Number.NaN) * 1000) / 1000 },
    voteSentToUpstream: summarize(voteSentToUpstream),
    voteRoundTrip: summarize(voteRoundTrip),
    unheldSendToUpstream: summarize(unheldSendToUpstream),
  };
}

it('approving vote → held call at the upstream, embedded mode', async () => {
  const airlock = await startEmbeddedAirlock({ config: await config(), env: env() });
  try {
    results.embedded = await measure(airlock, 'embedded');
  } finally {
    await airlock.stop();
  }
  expect(results.embedded.voteAckToUpstream.requests).toBe(rounds);
});

it('approving vote → held call at the upstream, distributed mode (gRPC, NATS, Redis)', async () => {
  const [nats, redis] = await Promise.all([startNats(), startRedis()]);
  peers = [nats, redis];
  const airlock = await startDistributedAirlock({
    config: { ...(await config()), drivers: { bus: { kind: 'nats', servers: [nats.url] }, state: { kind: 'redis', url: redis.url } } },
    env: env(),
  });
  try {
    results.distributed = await measure(airlock, 'distributed');
  } finally {
    await airlock.stop();
  }
  expect(results.distributed.voteAckToUpstream.requests).toBe(rounds);
});

function ratio(value: number, baseline: number): number {
  return baseline ? Math.round((value / baseline) * 100) / 100 : Number.NaN;
}
