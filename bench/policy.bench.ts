/**
 * Policy decisions' cost (issue 5), one run, on one core (everything here is synchronous CPU work in this process,
 * except the gRPC rows, whose server runs in this process too):
 * - Cedar evaluation alone: one prepared request (entities built beforehand) against the loaded set — the baseline;
 * - an uncached decision by the engine: entities and typed context built, every resource evaluated, obligations drawn;
 * - the policy service over gRPC on loopback, as a distributed edge asks it, uncached;
 * - the same call answered by the edge's decision cache (services/edge-proxy/src/decision-cache.ts), warm;
 * p50/p99 per decision (closed loop, one at a time) and decisions per second of CPU time. The set is the default pack
 * beside the seed's rule; the calls are a mix of reads, writes, destroying writes and IAM writes (one per outcome).
 * Results go to bench/results/policy.json; BENCHMARKS.md holds them with the method and the machine.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { cpus, loadavg, totalmem } from 'node:os';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { DecideRequest } from '@airlock/contracts';
import { createLogger } from '@airlock/logging';
import { DecisionCache } from '../services/edge-proxy/src/decision-cache.js';
import { buildRequest, resourcesOf } from '../services/policy/src/entities.js';
import { servePolicy, type ServedPolicy } from '../tests/support/policy-server.js';
import { summarize, type LatencySummary } from './load.js';

const repoRoot = fileURLToPath(new URL('..', import.meta.url));
const files = [`${repoRoot}policies/default.cedar`, `${repoRoot}policies/examples/ec2-terminate.cedar`];
const rounds = 20_000;
const grpcRounds = 3_000;
const report: Record<string, unknown> = { loadAverageAtStart: loadavg().map((value) => Number(value.toFixed(1))), policies: files.map((file) => file.slice(repoRoot.length)) };

function call(action: string, resources: string[], groups: string[] = ['agents']): DecideRequest {
  const [service = '', operation = ''] = action.split(':');
  return {
    principal: { subject: 'agent-7', issuer: 'https://agents.example.com', groups, sessionId: 'session-1', name: 'Agent 7' },
    call: { service, operation, action, resources, region: 'eu-west-1', roleArn: 'arn:aws:iam::123456789012:role/agent', parameters: { Bucket: 'reports', Key: 'q1.csv' } },
    context: { operationKnown: 'true', sourceIp: '10.0.0.7', time: '2026-11-26T10:00:00.000Z', sessionAgeSeconds: '120', principalKind: 'workloads' },
  };
}

/** One request per outcome the pack gives: allowed read and write, held destroying and IAM writes, a denial. */
const mix = [
  call('s3:GetObject', ['arn:aws:s3:::reports/q1.csv']),
  call('s3:PutObject', ['arn:aws:s3:::reports/q2.csv']),
  call('ec2:DescribeInstances', []),
  call('s3:DeleteObject', ['arn:aws:s3:::reports/q1.csv']),
  call('iam:AttachRolePolicy', ['arn:aws:iam::123456789012:role/agent']),
  call('ec2:TerminateInstances', ['arn:aws:ec2:eu-west-1:123456789012:instance/i-0123456789abcdef0'], ['senior-engineers']),
  call('sts:GetSessionToken', []),
];

let served: ServedPolicy;

beforeAll(async () => {
  served = await servePolicy({ files, logger: createLogger({ service: 'policy', level: 'silent' }), watch: false, reloadSignal: false });
});

afterAll(async () => {
  await served?.close();
});

interface Measured extends LatencySummary {
  /** Decisions per second of this process's CPU time (user + system): what one core sustains. */
  decisionsPerCpuSecond: number;
}

/** Runs `decide` `count` times over the mix, one at a time, timing each; the first tenth warms up and is not counted. */
async function measure(count: number, decide: (request: DecideRequest) => unknown): Promise<Measured> {
  for (let index = 0; index < count / 10; index++) await decide(mix[index % mix.length]!);
  const latencies: number[] = [];
  const cpu = process.cpuUsage();
  for (let index = 0; index < count; index++) {
    const start = performance.now();
    await decide(mix[index % mix.length]!);
    latencies.push(performance.now() - start);
  }
  const used = process.cpuUsage(cpu);
  const cpuSeconds = (used.user + used.system) / 1e6;
  return { ...summarize(latencies), decisionsPerCpuSecond: Math.round(count / cpuSeconds) };
}

it('measures uncached and cached decisions, and Cedar evaluation alone', async () => {
  const { engine } = served.service;
  const evaluate = engine.snapshot.evaluate;
  // Cedar alone: the requests built once, outside the timing.
  const prepared = new Map(
    mix.map((request) => {
      const action = request.call!.action;
      const resource = resourcesOf(request.call!, action)[0]!;
      return [request, buildRequest(request.principal!, request.call!, action, resource, request.context, new Date())];
    }),
  );
  const cedar = await measure(rounds, (request) => evaluate(prepared.get(request)!));
  const uncached = await measure(rounds, (request) => engine.decide(request));
  const overGrpc = await measure(grpcRounds, (request) => served.client.decide(request));
  const cache = new DecisionCache({ ttlSeconds: 3600, maxEntries: 1000 });
  const cachedOverGrpc = await measure(rounds, (request) => cache.decide(request, () => served.client.decide(request)));
  expect(cache.stats.misses).toBe(mix.length);

  const ratio = (a: number, b: number) => Number((a / b).toFixed(2));
  report.results = { cedarEvaluationAlone: cedar, uncachedEngine: uncached, uncachedOverGrpc: overGrpc, cachedAtEdge: cachedOverGrpc };
  report.ratios = {
    uncachedEngineVsCedarP50: ratio(uncached.p50Ms, cedar.p50Ms),
    uncachedGrpcVsCachedP50: ratio(overGrpc.p50Ms, cachedOverGrpc.p50Ms),
    uncachedGrpcVsCachedP99: ratio(overGrpc.p99Ms, cachedOverGrpc.p99Ms),
    cachedVsUncachedEngineThroughput: ratio(cachedOverGrpc.decisionsPerCpuSecond, uncached.decisionsPerCpuSecond),
  };
  console.log('policy decisions:', report.results, report.ratios);
  report.machine = { cpu: cpus()[0]?.model, cores: cpus().length, memoryGiB: Math.round(totalmem() / 2 ** 30), node: process.version, date: new Date().toISOString(), loadAverageAtEnd: loadavg().map((value) => Number(value.toFixed(1))) };
  await mkdir(new URL('./results/', import.meta.url), { recursive: true });
  await writeFile(new URL('./results/policy.json', import.meta.url), `${JSON.stringify(report, null, 2)}\n`);
});
