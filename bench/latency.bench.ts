import { randomBytes } from 'node:crypto';
import { mkdir, writeFile } from 'node:fs/promises';
import { cpus, totalmem } from 'node:os';
import { HeadObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { AssumeRoleWithWebIdentityCommand, STSClient } from '@aws-sdk/client-sts';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { startDistributedAirlock, startEmbeddedAirlock, type AirlockUnderTest } from '../tests/support/airlock.js';
import { startNats, startRedis, type Peer } from '../tests/support/peers.js';
import { startTokenForge, type TokenForge } from '../tests/support/token-forge.js';
import { startFakeAws, type FakeAws } from './fake-aws.js';
import { measureAtFixedRate, type LatencySummary } from './load.js';

const ratePerSecond = Number(process.env.BENCH_RATE ?? 200);
const requests = Number(process.env.BENCH_REQUESTS ?? 3000);
const warmup = 300;
const roleArn = 'arn:aws:iam::123456789012:role/agent';

let upstream: FakeAws;
let forge: TokenForge;
let peers: Peer[] = [];
const results: Record<string, LatencySummary> = {};

beforeAll(async () => {
  [upstream, forge] = await Promise.all([startFakeAws(), startTokenForge()]);
});

afterAll(async () => {
  await Promise.all([upstream?.stop(), forge?.stop(), ...peers.map((peer) => peer.stop())]);
  const report = {
    machine: { cpus: cpus().length, model: cpus()[0]?.model, memoryGiB: Math.round(totalmem() / 2 ** 30), node: process.version },
    ratePerSecond,
    requests,
    results,
    ratios: Object.fromEntries(
      Object.entries(results)
        .filter(([name]) => name !== 'direct')
        .map(([name, summary]) => [name, { p50: ratio(summary.p50Ms, results.direct?.p50Ms), p99: ratio(summary.p99Ms, results.direct?.p99Ms) }]),
    ),
  };
  await mkdir('bench/results', { recursive: true });
  await writeFile('bench/results/latency.json', `${JSON.stringify(report, null, 2)}\n`);
  console.log(JSON.stringify(report, null, 2));
});

const config = () => ({
  identity: { issuers: [{ issuer: forge.issuer, audience: 'airlock' }] },
  upstream: { endpoint: upstream.url },
  policy: { files: ['policies/default.cedar'] },
  logging: { level: 'warn' },
});
const env = () => ({ ...(process.env.BENCH_PROFILE_DIR ? { NODE_OPTIONS: `--cpu-prof --cpu-prof-dir=${process.env.BENCH_PROFILE_DIR}` } : {}), AWS_ACCESS_KEY_ID: 'bench', AWS_SECRET_ACCESS_KEY: 'bench', AWS_REGION: 'us-east-1', AIRLOCK_SESSION_KEYS: `bench:${randomBytes(32).toString('base64')}` });

async function measureHeadObject(client: S3Client): Promise<LatencySummary> {
  const head = () => client.send(new HeadObjectCommand({ Bucket: 'bench', Key: 'object.bin' }));
  await measureAtFixedRate(head, { ratePerSecond, requests: warmup });
  return measureAtFixedRate(head, { ratePerSecond, requests });
}

async function throughAirlock(airlock: AirlockUnderTest): Promise<S3Client> {
  const token = await forge.sign({ sub: 'bench-agent', aud: 'airlock', exp: Math.floor(Date.now() / 1000) + 3600 });
  const { Credentials } = await new STSClient({ region: 'us-east-1', endpoint: airlock.url }).send(
    new AssumeRoleWithWebIdentityCommand({ RoleArn: roleArn, RoleSessionName: 'bench', WebIdentityToken: token }),
  );
  return new S3Client({
    region: 'us-east-1',
    endpoint: airlock.url,
    forcePathStyle: true,
    maxAttempts: 1,
    credentials: { accessKeyId: Credentials!.AccessKeyId!, secretAccessKey: Credentials!.SecretAccessKey!, sessionToken: Credentials!.SessionToken! },
  });
}

it('s3:HeadObject direct to the upstream', async () => {
  const client = new S3Client({ region: 'us-east-1', endpoint: upstream.url, forcePathStyle: true, maxAttempts: 1, credentials: { accessKeyId: 'bench', secretAccessKey: 'bench' } });
  results.direct = await measureHeadObject(client);
  expect(results.direct.errors).toBe(0);
});

it('s3:HeadObject through Airlock, embedded mode', async () => {
  const airlock = await startEmbeddedAirlock({ config: config(), env: env() });
  try {
    results.embedded = await measureHeadObject(await throughAirlock(airlock));
  } finally {
    await airlock.stop();
  }
  expect(results.embedded.errors).toBe(0);
});

it('s3:HeadObject through Airlock, distributed mode (gRPC, NATS, Redis)', async () => {
  const [nats, redis] = await Promise.all([startNats(), startRedis()]);
  peers = [nats, redis];
  const airlock = await startDistributedAirlock({
    config: { ...config(), drivers: { bus: { kind: 'nats', servers: [nats.url] }, state: { kind: 'redis', url: redis.url } } },
    env: env(),
  });
  try {
    results.distributed = await measureHeadObject(await throughAirlock(airlock));
  } finally {
    await airlock.stop();
  }
  expect(results.distributed.errors).toBe(0);
});

function ratio(value: number, baseline: number | undefined): number {
  return baseline ? Math.round((value / baseline) * 100) / 100 : Number.NaN;
}
