/**
 * Masking's cost (issue 8), one run:
 * - MB/s per core (bytes over the process's CPU time) for 1 KB, 100 KB and 100 MB JSON and XML answers through the engine
 *   directly (no gRPC), beside secretlint's recommended rules (@secretlint/core + preset-recommend) scanning the same
 *   documents in the same run: the baseline, and the ratio to it;
 * - p50/p99 added latency for a 10 KB answer: the engine alone, and through the Mask stream (service bound in process);
 * - recall and false positives on the labelled corpus, for Airlock's profiles and for secretlint.
 * Results go to bench/results/masking.json; BENCHMARKS.md holds them with the method and the machine.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { cpus, loadavg, totalmem } from 'node:os';
import { performance } from 'node:perf_hooks';
import { lintSource } from '@secretlint/core';
import { secretLintProfiler } from '@secretlint/profiler';
import { creator as recommended } from '@secretlint/secretlint-rule-preset-recommend';
import { expect, it } from 'vitest';
import type { MaskRequest } from '@airlock/contracts';
import { createLogger } from '@airlock/logging';
import { createAnswerMasker, createMaskingService, profileFor } from '@airlock/masking';
import { bindInProcess } from '@airlock/transport';
import { corpus } from '../services/masking/src/corpus/corpus.js';

const key = Buffer.from('bench-key');
const report: Record<string, unknown> = { loadAverageAtStart: loadavg().map((value) => Number(value.toFixed(1))) };
const secretlintConfig = { rules: [{ id: '@secretlint/secretlint-rule-preset-recommend', rule: recommended }] };

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

/** An RDS DBInstance as the query protocol writes it (field rule: `**.MasterUserPassword`, here a pending change). */
function dbInstance(i: number): string {
  return (
    `<DBInstance><DBInstanceIdentifier>db-${i}</DBInstanceIdentifier><DBInstanceClass>db.t3.micro</DBInstanceClass>` +
    `<Engine>postgres</Engine><DBInstanceStatus>available</DBInstanceStatus><MasterUsername>app</MasterUsername>` +
    `<Endpoint><Address>db-${i}.abc123.us-east-1.rds.amazonaws.com</Address><Port>5432</Port></Endpoint>` +
    `<AllocatedStorage>20</AllocatedStorage><PendingModifiedValues><MasterUserPassword>pw-${i}-rotated</MasterUserPassword></PendingModifiedValues></DBInstance>`
  );
}

interface Shape {
  context: { service: string; operation: string; contentType: string };
  open: string;
  unit: (i: number) => string;
  separator: string;
  close: string;
}

/** A document of about `size` bytes made of `unit` records, as a list of chunks of at most 64 KiB. */
function document(size: number, shape: Shape): Buffer[] {
  const block: string[] = [];
  let length = shape.open.length + shape.close.length;
  for (let i = 0; length < Math.min(size, 1 << 20); i++) {
    const record = (i === 0 ? '' : shape.separator) + shape.unit(i);
    block.push(record);
    length += record.length;
  }
  const body = Buffer.from(block.join(''));
  const chunks: Buffer[] = [Buffer.from(shape.open)];
  const repeats = Math.max(1, Math.round(size / body.length));
  for (let r = 0; r < repeats; r++) {
    const part = r === 0 ? body : Buffer.concat([Buffer.from(shape.separator), body]);
    for (let offset = 0; offset < part.length; offset += 65_536) chunks.push(part.subarray(offset, offset + 65_536));
  }
  chunks.push(Buffer.from(shape.close));
  return chunks;
}

/**
 * Runs `round` until `minSeconds` have passed (at least once), after half a second of warm-up (compilation, lazy
 * catalogue loads): MB per CPU-second of this process (one core) and per wall second.
 */
async function measure(bytes: number, minSeconds: number, round: () => unknown): Promise<{ rounds: number; mbPerCpuSecond: number; mbPerWallSecond: number }> {
  const warm = performance.now();
  if (minSeconds > 0) while (performance.now() - warm < 500) await round();
  let rounds = 0;
  const cpu = process.cpuUsage();
  const start = performance.now();
  do {
    await round();
    rounds++;
  } while (performance.now() - start < minSeconds * 1000);
  const wall = (performance.now() - start) / 1000;
  const used = process.cpuUsage(cpu);
  const cpuSeconds = (used.user + used.system) / 1e6;
  return { rounds, mbPerCpuSecond: Number(((bytes * rounds) / cpuSeconds / 1e6).toFixed(1)), mbPerWallSecond: Number(((bytes * rounds) / wall / 1e6).toFixed(1)) };
}

// secretlint's profiler (a process-wide singleton) records a performance mark at every step of every run and keeps
// them all, searching them linearly: a process that lints thousands of documents slows down quadratically (a first
// run of this bench spent 441 s on the 10 corpus documents after the throughput rounds). Its marks are switched off
// here, so that the baseline measures the rules rather than that bookkeeping.
(secretLintProfiler as unknown as { perf: { mark(): void; measure(): void } }).perf = { mark: () => {}, measure: () => {} };

const secretlint = (content: string, filePath = '/answer.json') =>
  lintSource({ source: { content, filePath, ext: filePath.slice(filePath.lastIndexOf('.')), contentType: 'text' }, options: { config: secretlintConfig, noPhysicFilePath: true } });

it('measures MB/s per core beside secretlint on the same documents', async () => {
  const json = (service: string, operation: string, contentType: string, open: string, unit: (i: number) => string): Shape => ({
    context: { service, operation, contentType },
    open,
    unit,
    separator: ',',
    close: ']}',
  });
  const shapes: Record<string, Shape> = {
    'lambda ListFunctions (JSON, field rules + detectors)': json('lambda', 'ListFunctions', 'application/json', '{"Functions":[', lambdaFunction),
    'rds DescribeDBInstances (XML, field rules + detectors)': {
      context: { service: 'rds', operation: 'DescribeDBInstances', contentType: 'text/xml' },
      open: '<DescribeDBInstancesResponse xmlns="http://rds.amazonaws.com/doc/2014-10-31/"><DescribeDBInstancesResult><DBInstances>',
      unit: dbInstance,
      separator: '',
      close: '</DBInstances></DescribeDBInstancesResult></DescribeDBInstancesResponse>',
    },
    'dynamodb Scan (JSON, no field rules: detectors, paths tracked for locations)': json('dynamodb', 'Scan', 'application/x-amz-json-1.0', '{"Count":1,"Items":[', item),
  };
  const results: Record<string, unknown> = {};
  for (const [name, shape] of Object.entries(shapes)) {
    for (const [label, size] of [['1 KB', 1024], ['100 KB', 100 * 1024], ['100 MB', 100 * 1024 * 1024]] as const) {
      const chunks = document(size, shape);
      const bytes = chunks.reduce((sum, chunk) => sum + chunk.length, 0);
      const minSeconds = size > 1e7 ? 0 : 2;
      let out = 0;
      const airlock = await measure(bytes, minSeconds, () => {
        const masker = createAnswerMasker(profileFor('default'), shape.context, key);
        for (const chunk of chunks) out += masker.push(chunk).length;
        out += masker.end().length;
      });
      expect(out).toBeGreaterThan(0);
      // secretlint takes the whole document as one string (it does not stream), and only reports; it changes nothing.
      const text = Buffer.concat(chunks).toString('utf8');
      const baseline = await measure(bytes, minSeconds, () => secretlint(text, shape.context.contentType.includes('xml') ? '/answer.xml' : '/answer.json'));
      const ratio = Number((airlock.mbPerCpuSecond / baseline.mbPerCpuSecond).toFixed(2));
      results[`${name}, ${label}`] = { bytes, airlock, secretlint: baseline, ratio };
      console.log(`${name}, ${label}: Airlock ${airlock.mbPerCpuSecond} MB/s per core, secretlint ${baseline.mbPerCpuSecond} MB/s per core (×${ratio})`);
    }
  }
  report.throughput = results;
});

it('measures the latency a 10 KB answer gains, engine alone and through the Mask stream', async () => {
  const context = { service: 'lambda', operation: 'ListFunctions', contentType: 'application/json' };
  const body = Buffer.concat(document(10 * 1024, { context, open: '{"Functions":[', unit: lambdaFunction, separator: ',', close: ']}' }));
  const percentiles = (samples: number[]) => {
    samples.sort((a, b) => a - b);
    const at = (q: number) => Number(samples[Math.min(samples.length - 1, Math.floor(q * samples.length))]!.toFixed(3));
    return { samples: samples.length, p50ms: at(0.5), p90ms: at(0.9), p99ms: at(0.99), maxMs: at(1) };
  };

  const engine: number[] = [];
  for (let i = 0; i < 5300; i++) {
    const start = performance.now();
    const masker = createAnswerMasker(profileFor('default'), context, key);
    for (let offset = 0; offset < body.length; offset += 16_384) masker.push(body.subarray(offset, offset + 16_384));
    masker.end();
    if (i >= 300) engine.push(performance.now() - start);
  }

  const service = await createMaskingService({ logger: createLogger({ service: 'masking', level: 'silent' }) });
  const client = bindInProcess(service.definition, service.implementation);
  const header: MaskRequest = { part: { $case: 'header', value: { profile: 'default', ...context, ranged: false } } };
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
  const stream: number[] = [];
  for (let i = 0; i < 3000; i++) stream.push(await once());
  await service.close();
  report.latency10KB = { bytes: body.length, engine: percentiles(engine), maskStreamInProcess: percentiles(stream), peerFigureMs: 8 };
  console.log('10 KB answer:', report.latency10KB);
});

it('scores the labelled corpus: Airlock profiles and secretlint', async () => {
  const scores: Record<string, unknown> = {};
  for (const profileName of ['default', 'pii']) {
    let planted = 0;
    let caught = 0;
    let lookalikes = 0;
    let changed = 0;
    for (const sample of corpus) {
      const masker = createAnswerMasker(profileFor(profileName), sample, key);
      const text = Buffer.concat([masker.push(Buffer.from(sample.body)), masker.end()]).toString('utf8');
      for (const secret of profileName === 'pii' ? [...sample.secrets, ...sample.personal] : sample.secrets) {
        planted++;
        if (!text.includes(secret)) caught++;
      }
      for (const lookalike of sample.lookalikes) {
        lookalikes++;
        if (!text.includes(lookalike)) changed++;
      }
    }
    scores[`airlock ${profileName}`] = { planted, caught, lookalikes, falsePositives: changed };
  }
  // secretlint reports ranges; a planted secret counts as found when a reported range covers it, a look-alike as a
  // false positive when a range overlaps it.
  let planted = 0;
  let caught = 0;
  let lookalikes = 0;
  let flagged = 0;
  for (const sample of corpus) {
    const { messages } = await secretlint(sample.body, sample.contentType.includes('xml') ? '/answer.xml' : '/answer.json');
    const ranges = messages.map((message) => message.range);
    const located = (value: string) => {
      const start = sample.body.indexOf(value);
      return start < 0 ? undefined : [start, start + value.length];
    };
    for (const secret of sample.secrets) {
      planted++;
      const at = located(secret);
      if (at && ranges.some(([from, to]) => from <= at[0]! && to >= at[1]!)) caught++;
    }
    for (const lookalike of sample.lookalikes) {
      lookalikes++;
      const at = located(lookalike);
      if (at && ranges.some(([from, to]) => from < at[1]! && to > at[0]!)) flagged++;
    }
  }
  scores.secretlint = { planted, caught, lookalikes, falsePositives: flagged };
  report.corpus = scores;
  console.log('corpus:', scores);

  report.machine = { cpu: cpus()[0]?.model, cores: cpus().length, memoryGiB: Math.round(totalmem() / 2 ** 30), node: process.version, date: new Date().toISOString(), loadAverageAtEnd: loadavg().map((value) => Number(value.toFixed(1))) };
  await mkdir(new URL('./results/', import.meta.url), { recursive: true });
  await writeFile(new URL('./results/masking.json', import.meta.url), `${JSON.stringify(report, null, 2)}\n`);
});
