/**
 * Masking's cost (issue 8): MB/s on one core for 1 KB, 100 KB and 100 MB JSON answers through the engine directly
 * (no gRPC), and the p50/p99 latency the masking stream adds to a 10 KB answer (service bound in process).
 * secretlint is not installed here, so the comparison with its rules is not measured.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { cpus, totalmem } from 'node:os';
import { performance } from 'node:perf_hooks';
import { expect, it } from 'vitest';
import type { MaskRequest } from '@airlock/contracts';
import { createLogger } from '@airlock/logging';
import { createAnswerMasker, createMaskingService, profileFor } from '@airlock/masking';
import { bindInProcess } from '@airlock/transport';

const key = Buffer.from('bench-key');
const report: Record<string, unknown> = {};

/** A DynamoDB Scan-like item (detectors only: no field rules) and a Lambda function (field rules on its variables). */
function item(i: number): string {
  return JSON.stringify({
    pk: { S: `order#${i}` },
    customer: { S: `customer-${i % 97}` },
    note: { S: 'Delivered to the front desk; signature on file. Contact support if the parcel is damaged.' },
    total: { N: String(1000 + i) },
    created: { S: '2024-05-01T12:34:56Z' },
    tags: { L: [{ S: 'priority' }, { S: 'gift' }] },
  });
}
function lambdaFunction(i: number): string {
  return JSON.stringify({
    FunctionName: `fn-${i}`,
    FunctionArn: `arn:aws:lambda:us-east-1:123456789012:function:fn-${i}`,
    Runtime: 'nodejs20.x',
    Role: 'arn:aws:iam::123456789012:role/fn-role',
    Handler: 'index.handler',
    CodeSize: 5120,
    Timeout: 30,
    LastModified: '2024-01-15T10:00:00.000+0000',
    Environment: { Variables: { TABLE: `orders-${i}`, LOG_LEVEL: 'info', API_URL: 'https://api.example.com/v1' } },
  });
}

/** A JSON document of about `size` bytes made of `unit` records, as a list of chunks of at most 64 KiB. */
function document(size: number, open: string, unit: (i: number) => string): Buffer[] {
  const block: string[] = [];
  let length = open.length + 2;
  for (let i = 0; length < Math.min(size, 1 << 20); i++) {
    const record = (i === 0 ? '' : ',') + unit(i);
    block.push(record);
    length += record.length;
  }
  const body = Buffer.from(block.join(''));
  const chunks: Buffer[] = [Buffer.from(open)];
  const repeats = Math.max(1, Math.round(size / body.length));
  for (let r = 0; r < repeats; r++) {
    const part = r === 0 ? body : Buffer.concat([Buffer.from(','), body]);
    for (let offset = 0; offset < part.length; offset += 65_536) chunks.push(part.subarray(offset, offset + 65_536));
  }
  chunks.push(Buffer.from(']}'));
  return chunks;
}

function throughput(chunks: Buffer[], context: { service: string; operation: string; contentType: string }, minSeconds: number) {
  const bytes = chunks.reduce((sum, chunk) => sum + chunk.length, 0);
  let rounds = 0;
  let out = 0;
  const start = performance.now();
  do {
    const masker = createAnswerMasker(profileFor('default'), context, key);
    for (const chunk of chunks) out += masker.push(chunk).length;
    out += masker.end().length;
    rounds++;
  } while (performance.now() - start < minSeconds * 1000);
  const seconds = (performance.now() - start) / 1000;
  expect(out).toBeGreaterThan(0);
  return { bytes, rounds, mbPerSecond: Number(((bytes * rounds) / seconds / 1e6).toFixed(1)) };
}

it('measures engine throughput on one core', () => {
  const shapes = {
    'dynamodb Scan (detectors only)': { context: { service: 'dynamodb', operation: 'Scan', contentType: 'application/x-amz-json-1.0' }, open: '{"Count":1,"Items":[', unit: item },
    'lambda ListFunctions (field rules + detectors)': { context: { service: 'lambda', operation: 'ListFunctions', contentType: 'application/json' }, open: '{"Functions":[', unit: lambdaFunction },
  };
  const results: Record<string, unknown> = {};
  for (const [name, shape] of Object.entries(shapes)) {
    for (const [label, size] of [['1 KB', 1024], ['100 KB', 100 * 1024], ['100 MB', 100 * 1024 * 1024]] as const) {
      const chunks = document(size, shape.open, shape.unit);
      const result = throughput(chunks, shape.context, size > 1e7 ? 0 : 2);
      results[`${name}, ${label}`] = result;
      console.log(`${name}, ${label}: ${result.mbPerSecond} MB/s (${result.bytes} bytes × ${result.rounds})`);
    }
  }
  report.throughput = results;
});

it('measures the latency the masking stream adds to a 10 KB answer', async () => {
  const service = await createMaskingService({ logger: createLogger({ service: 'masking', level: 'silent' }) });
  const client = bindInProcess(service.definition, service.implementation);
  const body = Buffer.concat(document(10 * 1024, '{"Functions":[', lambdaFunction));
  const header: MaskRequest = { part: { $case: 'header', value: { profile: 'default', service: 'lambda', operation: 'ListFunctions', contentType: 'application/json' } } };
  async function once(): Promise<number> {
    const start = performance.now();
    async function* requests(): AsyncIterable<MaskRequest> {
      yield header;
      for (let offset = 0; offset < body.length; offset += 16_384) yield { part: { $case: 'data', value: body.subarray(offset, offset + 16_384) } };
    }
    let bytes = 0;
    for await (const response of client.mask(requests(), { signal: new AbortController().signal })) bytes += response.data.length;
    expect(bytes).toBeGreaterThan(0);
    return performance.now() - start;
  }
  for (let i = 0; i < 300; i++) await once();
  const samples: number[] = [];
  for (let i = 0; i < 3000; i++) samples.push(await once());
  samples.sort((a, b) => a - b);
  const at = (q: number) => Number(samples[Math.min(samples.length - 1, Math.floor(q * samples.length))]!.toFixed(3));
  report.latency10KB = { bytes: body.length, samples: samples.length, p50ms: at(0.5), p90ms: at(0.9), p99ms: at(0.99), maxMs: at(1) };
  console.log('10 KB answer through the masking stream:', report.latency10KB);
  await service.close();
  report.secretlint = 'not measured: secretlint is not installed in this workspace';
  report.machine = { cpu: cpus()[0]?.model, cores: cpus().length, memoryGiB: Math.round(totalmem() / 2 ** 30), node: process.version, date: new Date().toISOString() };
  await mkdir(new URL('./results/', import.meta.url), { recursive: true });
  await writeFile(new URL('./results/masking.json', import.meta.url), `${JSON.stringify(report, null, 2)}\n`);
});
