import { appendFile, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createEmbeddedBus } from './embedded-bus.js';

const text = (s: string): Uint8Array => new TextEncoder().encode(s);
const str = (b: Uint8Array): string => new TextDecoder().decode(b);

describe('embedded bus files', () => {
  let dataDir = '';
  beforeEach(async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'airlock-embedded-bus-'));
  });
  afterEach(async () => {
    await rm(dataDir, { recursive: true, force: true });
  });

  it('drops a record torn by a crash and carries on after it', async () => {
    const bus = await createEmbeddedBus({ dataDir });
    await bus.ensureStream({ name: 'S', subjects: ['s.>'] });
    await bus.publish('s.a', text('whole'));
    await bus.close();
    const log = join(dataDir, 'streams', 'S', 'messages.jsonl');
    await appendFile(log, '{"seq":2,"ts":1,"subj');

    const reopened = await createEmbeddedBus({ dataDir });
    const ack = await reopened.publish('s.a', text('next'));
    expect(ack.seq).toBe(2);
    const got = await reopened.fetch({ stream: 'S', durable: 'd' }, { max: 10, expiresMs: 100 });
    expect(got.map((m) => str(m.data))).toEqual(['whole', 'next']);
    await reopened.close();
    expect((await readFile(log, 'utf8')).trim().split('\n')).toHaveLength(2);
  });

  it('redelivers at once after a restart what the previous run delivered but never acked', async () => {
    const bus = await createEmbeddedBus({ dataDir });
    await bus.ensureStream({ name: 'S', subjects: ['s.>'] });
    await bus.publish('s.a', text('unacked'));
    const consumer = { stream: 'S', durable: 'd', ackWaitMs: 60_000 };
    expect(await bus.fetch(consumer, { max: 1, expiresMs: 100 })).toHaveLength(1);
    await bus.close();

    const reopened = await createEmbeddedBus({ dataDir });
    const [again] = await reopened.fetch(consumer, { max: 1, expiresMs: 100 });
    expect(again?.deliveryCount).toBe(2);
    await reopened.close();
  });

  it('shares one folder between buses of one process, like clients of one server', async () => {
    const a = await createEmbeddedBus({ dataDir });
    const b = await createEmbeddedBus({ dataDir });
    await a.ensureStream({ name: 'S', subjects: ['s.>'] });
    const live = b.watch('s.*')[Symbol.asyncIterator]();
    await a.publish('s.x', text('shared'));
    const next = await live.next();
    expect(next.done ? undefined : str(next.value.data)).toBe('shared');
    await a.close();
    // b still works after a closed
    expect((await b.publish('s.y', text('still'))).seq).toBe(2);
    await b.close();
    // what arrived before close is still handed out, then the watch ends
    const last = await live.next();
    expect(last.done ? undefined : str(last.value.data)).toBe('still');
    expect((await live.next()).done).toBe(true);
  });

  it('refuses a folder that another live process holds', async () => {
    await writeFile(join(dataDir, 'LOCK'), String(process.ppid));
    await expect(createEmbeddedBus({ dataDir })).rejects.toMatchObject({ code: 'InvalidConfiguration' });
  });

  it('takes over a lock left by a process that is gone', async () => {
    await writeFile(join(dataDir, 'LOCK'), '999999999');
    const bus = await createEmbeddedBus({ dataDir });
    await bus.close();
  });
});
