/**
 * Scaling out (issue 11): s3:HeadObject throughput through one, two and three edge processes behind haproxy, the other
 * services distributed (gRPC, NATS JetStream, Redis), against a constant-answer local upstream (bench/fake-aws.ts);
 * then the latency each adds at half of its own saturation, beside the direct-to-upstream baseline at the same rate,
 * measured in the same run. Throughput is closed-loop (a fixed number of calls always in flight); latency is
 * open-loop at a fixed rate (bench/load.ts). Everything (load generator, haproxy, edges, services, NATS, Redis,
 * upstream) shares this machine, so more edges only help while the machine has cores to spare.
 */
import { randomBytes } from 'node:crypto';
import { mkdir, writeFile } from 'node:fs/promises';
import { cpus, totalmem } from 'node:os';
import { HeadObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { AssumeRoleWithWebIdentityCommand, STSClient } from '@aws-sdk/client-sts';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { startDistributedAirlock, type DistributedAirlock } from '../tests/support/airlock.js';
import { freePort, startHaproxy, startNats, startRedis, type Peer } from '../tests/support/peers.js';
import { startTokenForge, type TokenForge } from '../tests/support/token-forge.js';
import { startFakeAws, type FakeAws } from './fake-aws.js';
import { measureAtFixedRate, type LatencySummary } from './load.js';

const concurrency = Number(process.env.BENCH_SCALE_CONCURRENCY ?? 32);
const throughputSeconds = Number(process.env.BENCH_SCALE_SECONDS ?? 10);
const latencyRequests = Number(process.env.BENCH_SCALE_REQUESTS ?? 1500);
const roleArn = 'arn:aws:iam::123456789012:role/agent';

let upstream: FakeAws;
let forge: TokenForge;
let peers: Peer[] = [];
let airlock: DistributedAirlock;
let lbPort: number;
const edgeHosts: string[] = [];
const results: Record<string, { throughputPerSecond: number; errors: number; firstError?: string; halfSaturation?: { ratePerSecond: number; airlock: LatencySummary; direct: LatencySummary } }> = {};

beforeAll(async () => {
  [upstream, forge] = await Promise.all([startFakeAws(), startTokenForge()]);
  const [nats, redis] = await Promise.all([startNats(), startRedis()]);
  peers = [nats, redis];
  lbPort = await freePort();
  airlock = await startDistributedAirlock({
    config: {
      identity: { issuers: [{ issuer: forge.issuer, audience: 'airlock' }] },
      upstream: { endpoint: upstream.url },
      policy: { files: ['policies/default.cedar'] },
      edge: { hosts: [`127.0.0.1:${lbPort}`] },
      drivers: { bus: { kind: 'nats', servers: [nats.url] }, state: { kind: 'redis', url: redis.url } },
      logging: { level: 'warn' },
    },
    env: { AWS_ACCESS_KEY_ID: 'bench', AWS_SECRET_ACCESS_KEY: 'bench', AWS_REGION: 'us-east-1', AIRLOCK_SESSION_KEYS: `bench:${randomBytes(32).toString('base64')}` },
  });
  const extra = [await airlock.addEdge(), await airlock.addEdge()];
  edgeHosts.push(...[airlock.url, ...extra.map((edge) => edge.url)].map((url) => new URL(url).host));
}, 300_000);

afterAll(async () => {
  await airlock?.stop();
  await Promise.all([upstream?.stop(), forge?.stop(), ...peers.map((peer) => peer.stop())]);
  console.log(JSON.stringify(await saveReport(), null, 2));
});

/** Writes bench/results/scale.json with what is measured so far (after each case, so a long run shows progress). */
async function saveReport() {
  const report = {
    machine: { cpus: cpus().length, model: cpus()[0]?.model, memoryGiB: Math.round(totalmem() / 2 ** 30), node: process.version },
    concurrency,
    throughputSeconds,
    latencyRequests,
    results,
    scaling: Object.fromEntries(
      Object.entries(results)
        .filter(([name]) => name !== 'direct')
        .map(([name, result]) => [name, Math.round((result.throughputPerSecond / (results['1 edge']?.throughputPerSecond ?? Number.NaN)) * 100) / 100]),
    ),
  };
  await mkdir('bench/results', { recursive: true });
  await writeFile('bench/results/scale.json', `${JSON.stringify(report, null, 2)}\n`);
  return report;
}

/** Calls completed per second with `concurrency` calls always in flight, after a one-second warm-up. */
async function measureThroughput(call: () => Promise<unknown>): Promise<{ throughputPerSecond: number; errors: number; firstError?: string }> {
  let counting = false;
  let stopped = false;
  let completed = 0;
  let errors = 0;
  let firstError: string | undefined;
  const worker = async () => {
    while (!stopped) {
      try {
        await call();
        if (counting) completed++;
      } catch (error) {
        if (counting) errors++;
        firstError ??= error instanceof Error ? `${error.name}: ${error.message}` : String(error);
      }
    }
  };
  const workers = Array.from({ length: concurrency }, worker);
  await new Promise((resolve) => setTimeout(resolve, 1_000));
  counting = true;
  const start = performance.now();
  await new Promise((resolve) => setTimeout(resolve, throughputSeconds * 1_000));
  counting = false;
  const elapsedSeconds = (performance.now() - start) / 1_000;
  stopped = true;
  await Promise.all(workers);
  return { throughputPerSecond: Math.round(completed / elapsedSeconds), errors, ...(firstError ? { firstError } : {}) };
}

const head = (client: S3Client) => () => client.send(new HeadObjectCommand({ Bucket: 'bench', Key: 'object.bin' }));
const directClient = () =>
  new S3Client({ region: 'us-east-1', endpoint: upstream.url, forcePathStyle: true, maxAttempts: 1, credentials: { accessKeyId: 'bench', secretAccessKey: 'bench' } });

async function throughLoadBalancer(url: string): Promise<S3Client> {
  const token = await forge.sign({ sub: 'bench-agent', aud: 'airlock', exp: Math.floor(Date.now() / 1000) + 3600 });
  const sts = new STSClient({ region: 'us-east-1', endpoint: url });
  const { Credentials } = await sts.send(new AssumeRoleWithWebIdentityCommand({ RoleArn: roleArn, RoleSessionName: 'bench', WebIdentityToken: token }));
  sts.destroy();
  return new S3Client({
    region: 'us-east-1',
    endpoint: url,
    forcePathStyle: true,
    maxAttempts: 1,
    credentials: { accessKeyId: Credentials!.AccessKeyId!, secretAccessKey: Credentials!.SecretAccessKey!, sessionToken: Credentials!.SessionToken! },
  });
}

it('s3:HeadObject throughput direct to the upstream (the ceiling of this load generator)', async () => {
  const client = directClient();
  results.direct = await measureThroughput(head(client));
  client.destroy();
  await saveReport();
  expect(results.direct.firstError).toBeUndefined();
});

for (const edges of [1, 2, 3]) {
  it(`s3:HeadObject through ${edges} edge${edges > 1 ? 's' : ''} behind haproxy: throughput, then latency at half of it`, async () => {
    const balancer = await startHaproxy({ port: lbPort, backends: edgeHosts.slice(0, edges) });
    try {
      const client = await throughLoadBalancer(balancer.url);
      const name = `${edges} edge${edges > 1 ? 's' : ''}`;
      const saturation = await measureThroughput(head(client));
      expect(saturation.firstError).toBeUndefined();
      const ratePerSecond = Math.max(1, Math.floor(saturation.throughputPerSecond / 2));
      // At most about 20 s per latency phase, however slow the machine.
      const requests = Math.min(latencyRequests, Math.max(50, ratePerSecond * 20));
      const direct = directClient();
      // The baseline at the very same rate, right before: what the client and upstream cost without Airlock.
      const directLatency = await measureAtFixedRate(head(direct), { ratePerSecond, requests });
      direct.destroy();
      const airlockLatency = await measureAtFixedRate(head(client), { ratePerSecond, requests });
      client.destroy();
      results[name] = { ...saturation, halfSaturation: { ratePerSecond, airlock: airlockLatency, direct: directLatency } };
      await saveReport();
      expect(saturation.errors).toBe(0);
      expect(airlockLatency.errors).toBe(0);
    } finally {
      await balancer.stop();
    }
  });
}
