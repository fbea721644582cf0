/**
 * The recorder's capacity (issue 9): events per second it files from a backlog, and the lag from an event's
 * publication (the edge's request) to its object being in S3 at fixed publish rates of 25 % and 75 % of that.
 * Real peers: nats-server with JetStream (file storage) and moto's S3 (server mode, no auth), both on this machine,
 * the recorder in this process with signed digests. Baseline, same run: raw S3 PutObject of one recording-sized
 * object, one at a time and 16 at a time, as puts per second and put latency. The embedded drivers (file bus and
 * file blob store) are measured the same way for comparison.
 */
import { generateKeyPairSync, randomUUID } from 'node:crypto';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { cpus, tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { createFileBlobStore, createS3BlobStore, type BlobStore } from '@airlock/blob';
import { createEmbeddedBus, createNatsBus, type Bus } from '@airlock/bus';
import { Decision, SessionEvent, sessionEventsStream } from '@airlock/contracts';
import { createLogger } from '@airlock/logging';
import { createRecorderService, parseSigningKey } from '@airlock/recorder';
import { startMoto, startNats, type Peer } from '../tests/support/peers.js';

const sessions = 50;
const backlogEvents = 2_000;
/** Lag is measured at these fractions of the throughput just measured: loads the recorder sustains. */
const loads = [0.25, 0.75];
const rateSeconds = 10;
const signingKey = parseSigningKey(`bench:${generateKeyPairSync('ed25519').privateKey.export({ format: 'der', type: 'pkcs8' }).toString('base64')}`, 'bench');
const report: Record<string, unknown> = {};
const savedEnv = { ...process.env };
let nats: Peer;
let moto: Peer;
let scratch: string;

beforeAll(async () => {
  scratch = await mkdtemp(join(tmpdir(), 'airlock-recorder-bench-'));
  [nats, moto] = await Promise.all([startNats(), startMoto()]);
  Object.assign(process.env, { AWS_ACCESS_KEY_ID: 'bench', AWS_SECRET_ACCESS_KEY: 'bench', AWS_REGION: 'us-east-1' });
});

afterAll(async () => {
  await Promise.all([nats?.stop(), moto?.stop()]);
  await rm(scratch, { recursive: true, force: true });
  process.env = savedEnv;
  await mkdir('bench/results', { recursive: true });
  await writeFile(
    'bench/results/recorder.json',
    `${JSON.stringify({ date: new Date().toISOString(), machine: { cpus: cpus().length, model: cpus()[0]?.model, memoryGiB: Math.round(totalmem() / 2 ** 30), node: process.version }, ...report }, null, 2)}\n`,
  );
});

/** A call event like the edge publishes for an S3 PutObject (about 600 bytes of JSON once recorded). */
function callEvent(session: number, i: number): SessionEvent {
  const sessionId = `bench${String(session).padStart(4, '0')}`;
  return {
    eventId: randomUUID(),
    sessionId,
    atMs: Date.now(),
    edgeId: 'edge-bench',
    body: {
      $case: 'call',
      value: {
        principal: { subject: `agent-${session % 10}`, issuer: 'https://idp.example', groups: ['agents'], sessionId, name: '' },
        call: { service: 's3', operation: 'PutObject', action: 's3:PutObject', resources: [`arn:aws:s3:::bucket/object-${i}`], region: 'us-east-1', roleArn: 'arn:aws:iam::123456789012:role/agent', parameters: { Bucket: 'bucket', Key: `object-${i}` } },
        decision: Decision.DECISION_ALLOW,
        policyIds: ['default-allow'],
        reason: '',
        approvalId: '',
        upstreamStatus: 200,
        awsRequestId: randomUUID(),
        errorCode: '',
        durationMs: 12,
        bytesIn: 1024,
        bytesOut: 0,
        masked: [],
        requestId: randomUUID(),
        unmaskedReason: '',
      },
    },
  };
}

/** The real store, observed: counts the events in each recording object it stores and how long each waited. */
function observed(blob: BlobStore) {
  const lags: number[] = [];
  let stored = 0;
  const store: BlobStore = {
    async put(key, body, options) {
      await blob.put(key, body, options);
      if (!key.endsWith('.ndjson')) return;
      const now = Date.now();
      for (const line of String(body).split('\n')) {
        if (!line) continue;
        stored++;
        lags.push(now - (JSON.parse(line) as { atMs: number }).atMs);
      }
    },
    get: (key) => blob.get(key),
    list: (prefix) => blob.list(prefix),
    close: () => blob.close(),
  };
  return { store, stored: () => stored, lags };
}

function percentiles(samples: number[]) {
  const sorted = [...samples].sort((a, b) => a - b);
  const at = (q: number) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? 0;
  return { samples: sorted.length, p50ms: at(0.5), p90ms: at(0.9), p99ms: at(0.99), maxMs: at(1) };
}

async function publish(bus: Bus, event: SessionEvent): Promise<void> {
  await bus.publish(sessionEventsStream.subjectFor(event.sessionId), SessionEvent.encode(event).finish(), { msgId: event.eventId });
}

async function waitForStored(stored: () => number, count: number): Promise<void> {
  for (let waited = 0; stored() < count; waited += 20) {
    if (waited > 300_000) throw new Error(`only ${stored()} of ${count} events stored`);
    await sleep(20);
  }
}

/** Drains a backlog (throughput), then records at fixed rates (lag), with one recorder over `bus` and `blob`. */
async function measure(name: string, bus: Bus, blob: BlobStore) {
  await bus.ensureStream({ name: sessionEventsStream.name, subjects: [...sessionEventsStream.subjects] });
  for (let i = 0; i < backlogEvents; i += 100) await Promise.all(Array.from({ length: 100 }, (_, j) => publish(bus, callEvent((i + j) % sessions, i + j))));
  const { store, stored, lags } = observed(blob);
  const recorder = await createRecorderService({ bus, blob: store, batchSize: 100, signingKey, durable: `bench-${name.replace(/[^a-z0-9-]/g, '-')}`, logger: createLogger({ service: 'recorder', level: 'silent' }) });
  const start = performance.now();
  await recorder.start!();
  await waitForStored(stored, backlogEvents);
  const seconds = (performance.now() - start) / 1000;
  const backlog = { events: backlogEvents, sessions, seconds: Number(seconds.toFixed(2)), eventsPerSecond: Math.round(backlogEvents / seconds) };
  console.log(`${name}: backlog of ${backlogEvents} events filed at ${backlog.eventsPerSecond} events/s`);

  const steady: Record<string, unknown> = {};
  const rates = loads.map((load) => Math.max(5, Math.round(backlog.eventsPerSecond * load)));
  for (const rate of rates) {
    lags.length = 0;
    const before = stored();
    const total = rate * rateSeconds;
    const begin = performance.now();
    for (let i = 0; i < total; i++) {
      // Paced against the clock, not by sleeping per event, so the offered rate holds even when a publish is slow.
      const due = begin + (i * 1000) / rate;
      const wait = due - performance.now();
      if (wait > 1) await sleep(wait);
      void publish(bus, callEvent(i % sessions, i));
    }
    await waitForStored(stored, before + total);
    steady[`${rate} events/s`] = percentiles(lags);
    console.log(`${name}: lag at ${rate} events/s`, steady[`${rate} events/s`]);
  }
  await recorder.close();
  expect(stored()).toBe(backlogEvents + rates.reduce((sum, rate) => sum + rate * rateSeconds, 0));
  return { backlog, lagFromPublishToStored: steady };
}

/** The baseline: PutObject of one recording-sized object, `concurrency` at a time, for `seconds`. */
async function rawPuts(blob: BlobStore, concurrency: number, seconds: number) {
  const body = `${JSON.stringify(SessionEvent.toJSON(callEvent(0, 0)))}\n`.repeat(2);
  const latencies: number[] = [];
  const end = performance.now() + seconds * 1000;
  let n = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (performance.now() < end) {
        const start = performance.now();
        await blob.put(`baseline/${n++}.ndjson`, body);
        latencies.push(performance.now() - start);
      }
    }),
  );
  return { concurrency, putsPerSecond: Math.round(latencies.length / seconds), ...percentiles(latencies.map((ms) => Number(ms.toFixed(2)))) };
}

it('measures the recorder with nats-server and moto S3', async () => {
  const bus = await createNatsBus({ servers: nats.url });
  const blob = await createS3BlobStore({ bucket: 'bench-recordings', endpoint: moto.url, forcePathStyle: true, createBucket: true, region: 'us-east-1' });
  try {
    report.rawS3Puts = { sequential: await rawPuts(blob, 1, 5), concurrent16: await rawPuts(blob, 16, 5) };
    console.log('raw S3 puts:', report.rawS3Puts);
    report.natsAndMotoS3 = await measure('nats+moto', bus, blob);
  } finally {
    await bus.close();
    await blob.close();
  }
});

it('measures the recorder with the embedded drivers (file bus, file blob store)', async () => {
  const bus = await createEmbeddedBus({ dataDir: join(scratch, 'bus') });
  const blob = await createFileBlobStore({ dir: join(scratch, 'blob') });
  try {
    report.rawFilePuts = { sequential: await rawPuts(blob, 1, 3), concurrent16: await rawPuts(blob, 16, 3) };
    console.log('raw file puts:', report.rawFilePuts);
    report.embedded = await measure('embedded', bus, blob);
  } finally {
    await bus.close();
    await blob.close();
  }
});
