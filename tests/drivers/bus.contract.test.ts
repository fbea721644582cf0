import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { AirlockError } from '@airlock/errors';
import { createEmbeddedBus, createNatsBus, type Bus, type WatchedMessage } from '@airlock/bus';
import { freePort, startNats, type Peer } from '../support/peers.js';
import { folderDriver, useDriver, type ContractDriver } from './contract-harness.js';

interface BusDriver extends ContractDriver<Bus> {
  /** Restarts whatever holds the data (the server, or nothing for the embedded bus); callers close their buses first. */
  restart(): Promise<void>;
}

function natsDriver(): BusDriver {
  let storeDir = '';
  let peer: Peer | undefined;
  return {
    name: 'nats',
    async setup() {
      storeDir = await mkdtemp(join(tmpdir(), 'airlock-bus-nats-'));
      peer = await startNats({ storeDir });
    },
    open: () => createNatsBus({ servers: peer?.url ?? '', name: 'contract-test' }),
    async restart() {
      const port = peer?.port;
      await peer?.stop();
      peer = await startNats({ storeDir, ...(port ? { port } : {}) });
    },
    async teardown() {
      await peer?.stop();
      await rm(storeDir, { recursive: true, force: true });
    },
  };
}

function embeddedDriver(): BusDriver {
  return {
    ...folderDriver('embedded', 'airlock-bus-embedded-', (dataDir) => createEmbeddedBus({ dataDir })),
    // With every bus on the folder closed, the next open reads everything back from the files.
    async restart() {},
  };
}

const text = (s: string): Uint8Array => new TextEncoder().encode(s);
const str = (b: Uint8Array): string => new TextDecoder().decode(b);

async function collect(iterable: AsyncIterable<WatchedMessage>, count: number, timeoutMs: number): Promise<WatchedMessage[]> {
  const out: WatchedMessage[] = [];
  const iterator = iterable[Symbol.asyncIterator]();
  const deadline = Date.now() + timeoutMs;
  while (out.length < count) {
    const left = deadline - Date.now();
    if (left <= 0) break;
    let timer: NodeJS.Timeout | undefined;
    const next = await Promise.race([
      iterator.next(),
      new Promise<'timeout'>((resolve) => {
        timer = setTimeout(() => resolve('timeout'), left);
      }),
    ]);
    clearTimeout(timer);
    if (next === 'timeout' || next.done) break;
    out.push(next.value);
  }
  return out;
}

describe.each([natsDriver(), embeddedDriver()])('Bus contract: $name', (driver) => {
  const { client, closeAll } = useDriver(driver);
  let n = 0;
  /** Each test gets its own stream and subject space. */
  const fresh = () => {
    n += 1;
    return { stream: `S${n}`, subject: `t${n}` };
  };

  it('publishes durably and fetches in order; acked messages are not delivered again', async () => {
    const bus = await client();
    const { stream, subject } = fresh();
    await bus.ensureStream({ name: stream, subjects: [`${subject}.>`] });
    await bus.ensureStream({ name: stream, subjects: [`${subject}.>`] }); // idempotent

    const acks = [];
    for (let i = 1; i <= 5; i++) {
      acks.push(await bus.publish(`${subject}.m`, text(`m${i}`), { headers: { 'x-index': String(i) } }));
    }
    expect(acks.map((a) => a.stream)).toEqual(Array(5).fill(stream));
    expect(acks.map((a) => a.duplicate)).toEqual(Array(5).fill(false));
    const seqs = acks.map((a) => a.seq);
    expect([...seqs].sort((a, b) => a - b)).toEqual(seqs);

    const consumer = { stream, durable: 'reader' };
    const first = await bus.fetch(consumer, { max: 3, expiresMs: 2_000 });
    expect(first.map((m) => str(m.data))).toEqual(['m1', 'm2', 'm3']);
    expect(first.map((m) => m.seq)).toEqual(seqs.slice(0, 3));
    expect(first.map((m) => m.deliveryCount)).toEqual([1, 1, 1]);
    expect(first[0]?.subject).toBe(`${subject}.m`);
    expect(first[0]?.headers).toEqual({ 'x-index': '1' });
    for (const m of first) await m.ack();

    const rest = await bus.fetch(consumer, { max: 10, expiresMs: 2_000 });
    expect(rest.map((m) => str(m.data))).toEqual(['m4', 'm5']);
    for (const m of rest) await m.ack();

    expect(await bus.fetch(consumer, { max: 10, expiresMs: 300 })).toEqual([]);
  });

  it('returns from fetch as soon as a message arrives instead of waiting for a full batch', async () => {
    const bus = await client();
    const { stream, subject } = fresh();
    await bus.ensureStream({ name: stream, subjects: [`${subject}.*`] });
    const consumer = { stream, durable: 'eager' };
    await bus.fetch(consumer, { max: 1, expiresMs: 0 }); // creates the consumer
    setTimeout(() => void bus.publish(`${subject}.late`, text('late')), 300);
    const started = Date.now();
    const got = await bus.fetch(consumer, { max: 50, expiresMs: 20_000 });
    expect(got.map((m) => str(m.data))).toEqual(['late']);
    expect(Date.now() - started).toBeLessThan(15_000);
    await got[0]?.ack();
  });

  it('redelivers an unacked message after ackWait, with a higher delivery count', async () => {
    const bus = await client();
    const { stream, subject } = fresh();
    await bus.ensureStream({ name: stream, subjects: [`${subject}.>`] });
    await bus.publish(`${subject}.x`, text('again'));
    const consumer = { stream, durable: 'slow', ackWaitMs: 1_000 };

    const [first] = await bus.fetch(consumer, { max: 1, expiresMs: 2_000 });
    expect(first?.deliveryCount).toBe(1);
    const [second] = await bus.fetch(consumer, { max: 1, expiresMs: 5_000 });
    expect(second?.seq).toBe(first?.seq);
    expect(second?.deliveryCount).toBe(2);
    expect(str(second?.data ?? new Uint8Array())).toBe('again');
    await second?.ack();
    expect(await bus.fetch(consumer, { max: 1, expiresMs: 1_500 })).toEqual([]);
  });

  it('redelivers on nak, honours a nak delay, and never redelivers a terminated message', async () => {
    const bus = await client();
    const { stream, subject } = fresh();
    await bus.ensureStream({ name: stream, subjects: [`${subject}.>`] });
    await bus.publish(`${subject}.a`, text('nak-me'));
    await bus.publish(`${subject}.b`, text('term-me'));
    const consumer = { stream, durable: 'picky', ackWaitMs: 1_000 };

    const batch = await bus.fetch(consumer, { max: 2, expiresMs: 2_000 });
    expect(batch.map((m) => str(m.data))).toEqual(['nak-me', 'term-me']);
    batch[0]?.nak();
    batch[1]?.term();
    const [again] = await bus.fetch(consumer, { max: 2, expiresMs: 2_000 });
    expect(str(again?.data ?? new Uint8Array())).toBe('nak-me');
    expect(again?.deliveryCount).toBe(2);

    again?.nak(600);
    expect(await bus.fetch(consumer, { max: 2, expiresMs: 100 })).toEqual([]);
    const later = await bus.fetch(consumer, { max: 2, expiresMs: 5_000 });
    expect(later.map((m) => [str(m.data), m.deliveryCount])).toEqual([['nak-me', 3]]);
    await later[0]?.ack();
    // term-me would be back by now if term had not stuck
    expect(await bus.fetch(consumer, { max: 2, expiresMs: 1_500 })).toEqual([]);
  });

  it('stops delivering a message after maxDeliver attempts', async () => {
    const bus = await client();
    const { stream, subject } = fresh();
    await bus.ensureStream({ name: stream, subjects: [`${subject}.>`] });
    await bus.publish(`${subject}.poison`, text('poison'));
    const consumer = { stream, durable: 'limited', ackWaitMs: 500, maxDeliver: 2 };
    const counts: number[] = [];
    for (let i = 0; i < 3; i++) {
      const got = await bus.fetch(consumer, { max: 1, expiresMs: 2_000 });
      counts.push(...got.map((m) => m.deliveryCount));
    }
    expect(counts).toEqual([1, 2]);
  });

  it('stores a message once per msgId within the duplicate window', async () => {
    const bus = await client();
    const { stream, subject } = fresh();
    await bus.ensureStream({ name: stream, subjects: [`${subject}.>`], duplicateWindowMs: 60_000 });
    const a = await bus.publish(`${subject}.e`, text('once'), { msgId: 'event-1' });
    const b = await bus.publish(`${subject}.e`, text('once'), { msgId: 'event-1' });
    const c = await bus.publish(`${subject}.e`, text('other'), { msgId: 'event-2' });
    expect(a.duplicate).toBe(false);
    expect(b).toEqual({ stream, seq: a.seq, duplicate: true });
    expect(c.duplicate).toBe(false);
    const got = await bus.fetch({ stream, durable: 'dedup' }, { max: 10, expiresMs: 1_000 });
    expect(got.map((m) => str(m.data))).toEqual(['once', 'other']);
    expect(got[0]?.headers).toEqual({});
  });

  it('filters by subject and keeps durables independent', async () => {
    const bus = await client();
    const { stream, subject } = fresh();
    await bus.ensureStream({ name: stream, subjects: [`${subject}.>`] });
    await bus.publish(`${subject}.approval.requested`, text('r1'));
    await bus.publish(`${subject}.session.event`, text('s1'));
    await bus.publish(`${subject}.approval.granted`, text('g1'));

    const approvals = await bus.fetch({ stream, durable: 'approvals', filterSubject: `${subject}.approval.*` }, { max: 10, expiresMs: 1_000 });
    expect(approvals.map((m) => m.subject)).toEqual([`${subject}.approval.requested`, `${subject}.approval.granted`]);
    const all = await bus.fetch({ stream, durable: 'everything' }, { max: 10, expiresMs: 1_000 });
    expect(all.map((m) => str(m.data))).toEqual(['r1', 's1', 'g1']);
  });

  it('splits one durable between concurrent fetchers without double delivery', async () => {
    const bus = await client();
    const other = await client();
    const { stream, subject } = fresh();
    await bus.ensureStream({ name: stream, subjects: [`${subject}.>`] });
    for (let i = 0; i < 20; i++) await bus.publish(`${subject}.w`, text(`w${i}`));
    const consumer = { stream, durable: 'workers', ackWaitMs: 30_000 };
    const seen: string[] = [];
    for (let round = 0; round < 10 && seen.length < 20; round++) {
      const [x, y] = await Promise.all([
        bus.fetch(consumer, { max: 3, expiresMs: 500 }),
        other.fetch(consumer, { max: 3, expiresMs: 500 }),
      ]);
      for (const m of [...x, ...y]) {
        seen.push(str(m.data));
        await m.ack();
      }
    }
    expect(seen).toHaveLength(20);
    expect(new Set(seen).size).toBe(20);
  });

  it('keeps a durable position across a closed client and a new one', async () => {
    const bus = await client();
    const { stream, subject } = fresh();
    await bus.ensureStream({ name: stream, subjects: [`${subject}.>`] });
    for (const body of ['p1', 'p2', 'p3']) await bus.publish(`${subject}.p`, text(body));
    const consumer = { stream, durable: 'resume' };
    for (const m of await bus.fetch(consumer, { max: 2, expiresMs: 1_000 })) await m.ack();
    await bus.close();

    const next = await client();
    const got = await next.fetch(consumer, { max: 10, expiresMs: 1_000 });
    expect(got.map((m) => str(m.data))).toEqual(['p3']);
    await got[0]?.ack();
  });

  it('keeps messages, positions and msgIds across a restart', async () => {
    const bus = await client();
    const { stream, subject } = fresh();
    const spec = { name: stream, subjects: [`${subject}.>`] };
    await bus.ensureStream(spec);
    for (const body of ['r1', 'r2', 'r3']) await bus.publish(`${subject}.r`, text(body), { msgId: body });
    const consumer = { stream, durable: 'survivor' };
    const [first] = await bus.fetch(consumer, { max: 1, expiresMs: 1_000 });
    await first?.ack();
    await closeAll();

    await driver.restart();
    const after = await client();
    await after.ensureStream(spec);
    expect(await after.publish(`${subject}.r`, text('r2'), { msgId: 'r2' })).toMatchObject({ duplicate: true });
    const got = await after.fetch(consumer, { max: 10, expiresMs: 1_000 });
    expect(got.map((m) => str(m.data))).toEqual(['r2', 'r3']);
    for (const m of got) await m.ack();
    const more = await after.publish(`${subject}.r`, text('r4'));
    expect(more.seq).toBeGreaterThan(3);
    expect((await after.fetch(consumer, { max: 10, expiresMs: 1_000 })).map((m) => str(m.data))).toEqual(['r4']);
  });

  it('watch delivers live messages matching the pattern, not earlier ones, until aborted', async () => {
    const bus = await client();
    const { stream, subject } = fresh();
    await bus.ensureStream({ name: stream, subjects: [`${subject}.>`] });
    await bus.publish(`${subject}.a.old`, text('before'));

    const controller = new AbortController();
    const live = bus.watch(`${subject}.a.*`, { signal: controller.signal });
    await bus.publish(`${subject}.a.one`, text('one'), { headers: { kind: 'first' } });
    await bus.publish(`${subject}.b.one`, text('elsewhere'));
    await bus.publish(`${subject}.a.two`, text('two'));

    const got = await collect(live, 2, 5_000);
    expect(got.map((m) => [m.subject, str(m.data)])).toEqual([
      [`${subject}.a.one`, 'one'],
      [`${subject}.a.two`, 'two'],
    ]);
    expect(got[0]?.headers).toEqual({ kind: 'first' });

    controller.abort();
    const ended = await collect(live, 1, 1_000);
    expect(ended).toEqual([]);
  });

  it('refuses a subject no stream captures, an unknown stream, and overlapping streams', async () => {
    const bus = await client();
    const { stream, subject } = fresh();
    await bus.ensureStream({ name: stream, subjects: [`${subject}.>`] });
    await expect(bus.publish(`nowhere${n}.x`, text('lost'))).rejects.toMatchObject({ name: 'AirlockError', code: 'NotFound' });
    await expect(bus.fetch({ stream: `Missing${n}`, durable: 'd' }, { max: 1, expiresMs: 100 })).rejects.toMatchObject({ code: 'NotFound' });
    await expect(bus.ensureStream({ name: `${stream}b`, subjects: [`${subject}.x`] })).rejects.toMatchObject({
      code: 'InvalidConfiguration',
    });
    await expect(bus.publish(`${subject}.*`, text('wild'))).rejects.toBeInstanceOf(AirlockError);
  });

  it('ends pending fetches and refuses work after close', async () => {
    const bus = await client();
    const { stream, subject } = fresh();
    await bus.ensureStream({ name: stream, subjects: [`${subject}.>`] });
    const controller = new AbortController();
    const waiting = bus.fetch({ stream, durable: 'aborted' }, { max: 1, expiresMs: 30_000, signal: controller.signal });
    setTimeout(() => controller.abort(), 200);
    expect(await waiting).toEqual([]);
    const cutShort = bus.fetch({ stream, durable: 'closed' }, { max: 1, expiresMs: 60_000 });
    await new Promise((resolve) => setTimeout(resolve, 200));
    const closedAt = Date.now();
    await bus.close();
    expect(await cutShort).toEqual([]);
    expect(Date.now() - closedAt).toBeLessThan(30_000);
    await bus.close();
    await expect(bus.publish(`${subject}.x`, text('late'))).rejects.toMatchObject({ code: 'DependencyUnavailable' });
  });
});

describe('NATS bus when the server goes away', () => {
  it('refuses publishes and fetches with DependencyUnavailable while it is down and recovers when it is back', async () => {
    const storeDir = await mkdtemp(join(tmpdir(), 'airlock-bus-outage-'));
    let peer = await startNats({ storeDir });
    const bus = await createNatsBus({ servers: peer.url });
    try {
      await bus.ensureStream({ name: 'OUTAGE', subjects: ['outage.>'] });
      await bus.publish('outage.a', text('before'));
      const consumer = { stream: 'OUTAGE', durable: 'd' };
      for (const m of await bus.fetch(consumer, { max: 10, expiresMs: 1_000 })) await m.ack();
      await peer.stop();
      await expect(bus.fetch(consumer, { max: 1, expiresMs: 500 })).rejects.toMatchObject({ code: 'DependencyUnavailable' });
      await expect(bus.publish('outage.a', text('during'), { msgId: 'during' })).rejects.toMatchObject({ code: 'DependencyUnavailable' });

      // The caller's retry with the same msgId is safe whether or not the failed attempt got through after all.
      peer = await startNats({ storeDir, port: peer.port });
      const deadline = Date.now() + 30_000;
      let ack;
      while (!ack && Date.now() < deadline) {
        ack = await bus.publish('outage.a', text('during'), { msgId: 'during' }).catch(() => undefined);
      }
      expect(ack?.seq).toBe(2);
      const got = await bus.fetch(consumer, { max: 10, expiresMs: 1_000 });
      expect(got.map((m) => str(m.data))).toEqual(['during']);
    } finally {
      await bus.close();
      await peer.stop();
      await rm(storeDir, { recursive: true, force: true });
    }
  });
});

describe('NATS bus without a server', () => {
  it('fails fast with DependencyUnavailable', async () => {
    const port = await freePort();
    const started = Date.now();
    const error = await createNatsBus({ servers: `nats://127.0.0.1:${port}`, connectTimeoutMs: 2_000 }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(AirlockError);
    expect(error).toMatchObject({ code: 'DependencyUnavailable' });
    expect((error as AirlockError).message).toContain(`127.0.0.1:${port}`);
    expect(Date.now() - started).toBeLessThan(10_000);
  });
});
