import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createFileBlobStore, type BlobStore } from '@airlock/blob';
import { createEmbeddedBus, type Bus } from '@airlock/bus';
import { Decision, SessionEvent, sessionEventsStream } from '@airlock/contracts';
import { createLogger } from '@airlock/logging';
import { bindInProcess, type ServiceRuntime } from '@airlock/transport';
import { fromNdjson } from './ndjson.js';
import { createRecorderService, type RecorderOptions } from './service.js';

const principal = { subject: 'alice', issuer: 'https://idp.example', groups: ['dev'], sessionId: 's1', name: 'Alice' };

function started(sessionId: string, eventId: string, atMs: number): SessionEvent {
  return {
    eventId,
    sessionId,
    atMs,
    edgeId: 'edge-1',
    body: { $case: 'started', value: { principal: { ...principal, sessionId }, roleArn: 'arn:aws:iam::123456789012:role/r', expiresAtMs: atMs + 3_600_000, claimsJson: '{}' } },
  };
}

function call(sessionId: string, eventId: string, atMs: number, operation: string): SessionEvent {
  return {
    eventId,
    sessionId,
    atMs,
    edgeId: 'edge-1',
    body: {
      $case: 'call',
      value: {
        principal: { ...principal, sessionId },
        call: { service: 's3', operation, action: `s3:${operation}`, resources: ['arn:aws:s3:::bucket'], region: 'us-east-1', roleArn: 'arn:aws:iam::123456789012:role/r', parameters: { Bucket: 'bucket' } },
        decision: Decision.DECISION_ALLOW,
        policyIds: ['p1'],
        reason: '',
        approvalId: '',
        upstreamStatus: 200,
        awsRequestId: `req-${eventId}`,
        errorCode: '',
        durationMs: 12,
        bytesIn: 10,
        bytesOut: 20,
        masked: [],
        requestId: `airlock-${eventId}`,
        unmaskedReason: '',
      },
    },
  };
}

function ended(sessionId: string, eventId: string, atMs: number): SessionEvent {
  return { eventId, sessionId, atMs, edgeId: 'edge-1', body: { $case: 'ended', value: { reason: 'logout' } } };
}

async function publish(bus: Bus, event: SessionEvent): Promise<void> {
  await bus.publish(sessionEventsStream.subjectFor(event.sessionId), SessionEvent.encode(event).finish(), { msgId: event.eventId });
}

/** Polls until `probe` gives a value; bounded, so a broken recorder fails the test instead of hanging it. */
async function eventually<T>(probe: () => Promise<T | undefined>, what: string): Promise<T> {
  for (let attempt = 0; attempt < 300; attempt++) {
    const value = await probe();
    if (value !== undefined) return value;
    await sleep(50);
  }
  throw new Error(`gave up waiting for ${what}`);
}

async function objectsUnder(blob: BlobStore, prefix: string): Promise<Map<string, SessionEvent[]>> {
  const objects = new Map<string, SessionEvent[]>();
  for await (const { key } of blob.list(prefix)) {
    // Digests (<seq>.digest.json) sit beside the recordings; only the NDJSON objects hold events.
    if (!key.endsWith('.ndjson')) continue;
    const body = await blob.get(key);
    if (body) objects.set(key, fromNdjson(body));
  }
  return new Map([...objects].sort(([a], [b]) => a.localeCompare(b)));
}

async function storedEventIds(blob: BlobStore, prefix: string): Promise<string[]> {
  return [...(await objectsUnder(blob, prefix)).values()].flat().map((event) => event.eventId);
}

function capturedLogger() {
  const destination = new PassThrough();
  const lines: string[] = [];
  destination.on('data', (chunk: Buffer) => lines.push(...chunk.toString().split('\n').filter(Boolean)));
  return { logger: createLogger({ service: 'recorder', level: 'debug', destination }), lines };
}

describe('recorder', () => {
  let dir: string;
  let bus: Bus;
  let blob: BlobStore;
  const runtimes: ServiceRuntime[] = [];

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'airlock-recorder-'));
    bus = await createEmbeddedBus({ dataDir: join(dir, 'bus') });
    blob = await createFileBlobStore({ dir: join(dir, 'blob') });
    await bus.ensureStream({ name: sessionEventsStream.name, subjects: [...sessionEventsStream.subjects] });
  });

  afterEach(async () => {
    for (const runtime of runtimes.splice(0)) await runtime.close();
    await bus.close();
    await blob.close();
    await rm(dir, { recursive: true, force: true });
  });

  async function recorder(overrides: Partial<RecorderOptions> = {}) {
    const runtime = await createRecorderService({
      bus,
      blob,
      batchSize: 10,
      logger: createLogger({ service: 'recorder', level: 'silent' }),
      retry: { initialDelayMs: 20, maxDelayMs: 200 },
      ...overrides,
    });
    runtimes.push(runtime as unknown as ServiceRuntime);
    return { runtime, client: bindInProcess(runtime.definition, runtime.implementation) };
  }

  const s1 = [started('s1', 'e1', 1_000), call('s1', 'e2', 1_001, 'ListBuckets'), call('s1', 'e4', 1_003, 'GetObject'), ended('s1', 'e6', 1_005)];
  const s2 = [started('s2', 'e3', 1_002), ended('s2', 'e5', 1_004)];
  const interleaved = [s1[0]!, s1[1]!, s2[0]!, s1[2]!, s2[1]!, s1[3]!];

  it('writes each session as NDJSON in stream order and answers queries about it', async () => {
    for (const event of interleaved) await publish(bus, event);
    const { runtime, client } = await recorder({ batchSize: 4 });
    await runtime.start!();

    await eventually(async () => ((await storedEventIds(blob, 'sessions/')).length === 6 ? true : undefined), 'six stored events');
    const objects = await objectsUnder(blob, 'sessions/');
    // Batch 1 holds seqs 1-4 (s1: 1,2,4; s2: 3); batch 2 holds seqs 5-6 (s2: 5; s1: 6).
    expect([...objects.keys()]).toEqual([
      'sessions/s1/00000000000000000001.ndjson',
      'sessions/s1/00000000000000000006.ndjson',
      'sessions/s2/00000000000000000003.ndjson',
      'sessions/s2/00000000000000000005.ndjson',
    ]);
    const raw = await blob.get('sessions/s1/00000000000000000001.ndjson');
    // Each line is the event's canonical JSON followed by its place in the session's hash chain.
    expect(
      new TextDecoder()
        .decode(raw!)
        .split('\n')
        .filter(Boolean)
        .map((line) => line.replace(/,"prevHash":"[0-9a-f]{64}","hash":"[0-9a-f]{64}"\}$/, '}')),
    ).toEqual(s1.slice(0, 3).map((event) => JSON.stringify(SessionEvent.toJSON(event))));
    expect((await client.verifySession({ sessionId: 's1' })).ok).toBe(true);

    expect((await client.getSession({ sessionId: 's1' })).events).toEqual(s1);
    expect((await client.getSession({ sessionId: 's2' })).events).toEqual(s2);
    const range = { limit: 0, sinceMs: 1, untilMs: 10_000, subject: '', role: '', operation: '', decision: '' };
    expect((await client.listSessions(range)).sessions).toEqual([
      {
        sessionId: 's1',
        objects: 2,
        events: 4,
        subject: 'alice',
        name: 'Alice',
        roleArn: 'arn:aws:iam::123456789012:role/r',
        firstAtMs: 1_000,
        lastAtMs: 1_005,
        calls: 2,
        operations: ['s3:GetObject', 's3:ListBuckets'],
        decisions: ['allow'],
      },
      expect.objectContaining({ sessionId: 's2', objects: 2, events: 2, calls: 0, firstAtMs: 1_002, lastAtMs: 1_004 }),
    ]);
    const listed = async (filter: Partial<typeof range>) => (await client.listSessions({ ...range, ...filter })).sessions.map((session) => session.sessionId);
    expect(await listed({ limit: 1 })).toEqual(['s1']);
    expect(await listed({ operation: 's3:GetObject' })).toEqual(['s1']);
    expect(await listed({ operation: 's3:*', decision: 'allow' })).toEqual(['s1']);
    expect(await listed({ operation: 's3:GetObject', decision: 'deny' })).toEqual([]);
    expect(await listed({ role: 'r', subject: 'ALICE' })).toEqual(['s1', 's2']);
    expect(await listed({ sinceMs: 1_004_000_000 - 1, untilMs: 1_004_000_000 })).toEqual([]);
    expect(await listed({ sinceMs: 1_005, untilMs: 1_006 })).toEqual(['s1']);
    await expect(client.listSessions({ ...range, decision: 'maybe' })).rejects.toMatchObject({ code: 'InvalidRequest' });

    // An export pages through the same index: every event once, whatever the page size.
    const exported: string[] = [];
    let pageToken = '';
    do {
      const page = await client.exportEvents({ sinceMs: 1, untilMs: 10_000, pageToken, pageSize: 1 });
      exported.push(...page.events.map((event) => event.eventId));
      pageToken = page.nextPageToken;
    } while (pageToken);
    expect(exported.sort()).toEqual(['e1', 'e2', 'e3', 'e4', 'e5', 'e6']);
  });

  it('answers NotFound for a session it never recorded, InvalidRequest for an unsafe id', async () => {
    const { client } = await recorder();
    await expect(client.getSession({ sessionId: 'nope' })).rejects.toMatchObject({ code: 'NotFound' });
    await expect(client.getSession({ sessionId: '../etc' })).rejects.toMatchObject({ code: 'InvalidRequest' });
  });

  it('drops a message that is not a session event and records the rest', async () => {
    const { logger, lines } = capturedLogger();
    await publish(bus, s2[0]!);
    await bus.publish(sessionEventsStream.subjectFor('s2'), new Uint8Array([0xff, 0xff, 0xff, 0xff]));
    await publish(bus, s2[1]!);
    const { runtime, client } = await recorder({ logger });
    await runtime.start!();

    await eventually(async () => ((await storedEventIds(blob, 'sessions/')).length === 2 ? true : undefined), 'two stored events');
    expect((await client.getSession({ sessionId: 's2' })).events).toEqual(s2);
    const dropped = lines.map((line) => JSON.parse(line) as { msg: string; seq?: number }).filter((line) => line.msg === 'dropping a message that is not a session event');
    expect(dropped).toHaveLength(1);
    expect(dropped[0]?.seq).toBe(2);
  });

  it('stores every event exactly once when the blob store fails at first', async () => {
    let failuresLeft = 3;
    let puts = 0;
    const flaky: BlobStore = {
      async put(key, body, options) {
        puts++;
        if (failuresLeft > 0) {
          failuresLeft--;
          throw new Error('blob store unavailable');
        }
        await blob.put(key, body, options);
      },
      get: (key) => blob.get(key),
      list: (prefix) => blob.list(prefix),
      close: async () => undefined,
    };
    for (const event of interleaved) await publish(bus, event);
    const { runtime, client } = await recorder({ blob: flaky, batchSize: 3 });
    await runtime.start!();

    await eventually(async () => ((await storedEventIds(blob, 'sessions/')).length >= 6 ? true : undefined), 'six stored events');
    await runtime.close();
    expect(failuresLeft).toBe(0);
    expect(puts).toBeGreaterThan(4);
    expect((await storedEventIds(blob, 'sessions/')).sort()).toEqual(['e1', 'e2', 'e3', 'e4', 'e5', 'e6']);
    expect((await client.getSession({ sessionId: 's1' })).events).toEqual(s1);
    expect((await client.getSession({ sessionId: 's2' })).events).toEqual(s2);
  });

  it('lets close() finish the batch in flight', async () => {
    const order: string[] = [];
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    let putStarted!: () => void;
    const started = new Promise<void>((resolve) => (putStarted = resolve));
    const gated: BlobStore = {
      async put(key, body, options) {
        // The digest is written after the object; the object's put is the one held at the gate.
        if (!key.endsWith('.ndjson')) return blob.put(key, body, options);
        order.push('put started');
        putStarted();
        await gate;
        await blob.put(key, body, options);
        order.push('put finished');
      },
      get: (key) => blob.get(key),
      list: (prefix) => blob.list(prefix),
      close: async () => undefined,
    };
    await publish(bus, s2[0]!);
    const { runtime } = await recorder({ blob: gated });
    await runtime.start!();
    await started;
    const closing = runtime.close().then(() => order.push('closed'));
    // Give a wrong close() every chance to resolve before the put it should wait for.
    await sleep(20);
    order.push('released');
    release();
    await closing;
    expect(order).toEqual(['put started', 'released', 'put finished', 'closed']);
    expect(await storedEventIds(blob, 'sessions/')).toEqual(['e3']);

    // It was acked: a new recorder on the same durable finds nothing left to store.
    const again = await recorder();
    await again.runtime.start!();
    await publish(bus, s2[1]!);
    await eventually(async () => ((await storedEventIds(blob, 'sessions/')).length === 2 ? true : undefined), 'the next event');
    expect(await storedEventIds(blob, 'sessions/')).toEqual(['e3', 'e5']);
  });

  it('refuses a batch size below one and a prefix without a trailing slash', async () => {
    const logger = createLogger({ service: 'recorder', level: 'silent' });
    await expect(createRecorderService({ bus, blob, batchSize: 0, logger })).rejects.toMatchObject({ code: 'InvalidConfiguration' });
    await expect(createRecorderService({ bus, blob, batchSize: 1, prefix: 'sessions', logger })).rejects.toMatchObject({ code: 'InvalidConfiguration' });
  });
});
