/**
 * What telemetry costs one call (issue 11), one run: the per-call work the edge and a service add for metrics, traces
 * and log bindings, measured in process as CPU time per call over 20,000 calls, beside the same calls without it (the
 * baseline, measured in the same run), with tracing sampled (every call recorded) and unsampled (ratio 0: spans made
 * but not recorded), and no exporter (export happens off the call path, in batches). The work per call is what
 * pipeline.ts and the transport do: a root span with log bindings, the request id, one upstream stage, four service
 * calls (client and server side), and the call's counters and histograms.
 * Results go to bench/results/telemetry.json; BENCHMARKS.md holds them with the method and the machine.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import type { IncomingMessage } from 'node:http';
import { cpus, loadavg } from 'node:os';
import { expect, it } from 'vitest';
import { SpanKind, contextFrom, inSpan, metrics, secondsSince, startTracing, traceHeaders } from '@airlock/telemetry';
import { addCallBindings, runWithCallBindings } from '@airlock/logging';

const calls = 20_000;
const request = { method: 'GET' } as IncomingMessage;
const noop = async () => undefined;

/** The telemetry of one edge call, as the edge and the transport do it (call-telemetry.ts, observe.ts). */
async function observedCall(): Promise<void> {
  await runWithCallBindings({}, () =>
    inSpan('edge call', { kind: SpanKind.SERVER, attributes: { 'http.request.method': request.method ?? '' } }, async () => {
      addCallBindings({ requestId: 'bench' });
      for (const method of ['airlock.v1.PolicyService/Decide', 'airlock.v1.CredentialVendingService/Vend', 'airlock.v1.MaskingService/Plan', 'airlock.v1.ApprovalService/Get']) {
        const startedAt = performance.now();
        await inSpan(method, { kind: SpanKind.CLIENT }, async () => {
          const metadata = traceHeaders();
          await inSpan(method, { kind: SpanKind.SERVER, parent: contextFrom(metadata) }, async () => runWithCallBindings({ requestId: metadata.traceparent ?? '' }, noop));
          metrics.rpcServerCalls.inc({ method, code: 'OK', transport: 'grpc' });
          metrics.rpcServerDuration.observe({ method, transport: 'grpc' }, secondsSince(startedAt));
        });
        metrics.rpcClientDuration.observe({ method }, secondsSince(startedAt));
      }
      const upstreamAt = performance.now();
      await inSpan('upstream', { kind: SpanKind.CLIENT }, noop);
      metrics.upstreamDuration.observe({ aws_service: 's3' }, secondsSince(upstreamAt));
      metrics.edgeCalls.inc({ aws_service: 's3', operation: 'HeadObject', decision: 'allow', outcome: 'ok' });
      metrics.edgeDuration.observe({ aws_service: 's3', decision: 'allow' }, 0.002);
    }),
  );
}

/** The same call chain without telemetry: the awaits the calls make anyway. */
async function bareCall(): Promise<void> {
  for (let service = 0; service < 4; service++) await noop();
  await noop();
}

/** CPU microseconds per call (user + system over the loop), after a warm-up. */
async function cpuPerCall(call: () => Promise<void>): Promise<number> {
  for (let i = 0; i < 2_000; i++) await call();
  const before = process.cpuUsage();
  for (let i = 0; i < calls; i++) await call();
  const used = process.cpuUsage(before);
  return (used.user + used.system) / calls;
}

it('measures the CPU telemetry adds to one call', async () => {
  const report: Record<string, unknown> = { loadAverageAtStart: loadavg().map((value) => Number(value.toFixed(1))), cpu: cpus()[0]?.model, calls };
  const bare = await cpuPerCall(bareCall);
  const unsampled = await startTracing({ serviceName: 'bench', sampleRatio: 0 });
  const notSampledUs = await cpuPerCall(observedCall);
  await unsampled.shutdown();
  const sampled = await startTracing({ serviceName: 'bench', sampleRatio: 1 });
  const sampledUs = await cpuPerCall(observedCall);
  await sampled.shutdown();
  const perCall = { baselineUs: round(bare), unsampledUs: round(notSampledUs), sampledUs: round(sampledUs) };
  report.perCall = perCall;
  report.addedUs = { unsampled: round(notSampledUs - bare), sampled: round(sampledUs - bare) };
  console.log('telemetry per call:', report);
  await mkdir('bench/results', { recursive: true });
  await writeFile('bench/results/telemetry.json', `${JSON.stringify(report, null, 2)}\n`);
  expect(sampledUs).toBeGreaterThan(0);
});

function round(value: number): number {
  return Number(value.toFixed(1));
}
