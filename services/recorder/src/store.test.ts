import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createFileBlobStore, type BlobStore } from '@airlock/blob';
import type { ConsumedMessage } from '@airlock/bus';
import type { SessionEvent } from '@airlock/contracts';
import type { SessionChunk } from './batch.js';
import { fromNdjson } from './ndjson.js';
import { storeChunk, type StoreTarget } from './store.js';
import { verifySession } from './verify.js';

const event = (eventId: string): SessionEvent => ({ eventId, sessionId: 's1', atMs: 1, edgeId: 'edge', body: { $case: 'ended', value: { reason: eventId } } });
const objectKey = (seq: number) => `sessions/s1/${String(seq).padStart(20, '0')}.ndjson`;

function chunk(deliveryCount: number, firstSeq: number, eventIds: string[]): SessionChunk {
  const messages = eventIds.map(
    (_, index): ConsumedMessage => ({ subject: 'airlock.sessions.s1', data: new Uint8Array(), headers: {}, seq: firstSeq + index, deliveryCount, ack: async () => undefined, nak: () => undefined, term: () => undefined }),
  );
  return { sessionId: 's1', firstSeq, messages, events: eventIds.map(event) };
}

describe('storeChunk', () => {
  let dir: string;
  let blob: BlobStore;
  let target: StoreTarget;
  const stored = async () => {
    const ids: string[] = [];
    for await (const { key } of blob.list('sessions/')) if (key.endsWith('.ndjson')) ids.push(...fromNdjson((await blob.get(key))!).map((e) => e.eventId));
    return ids;
  };

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'airlock-store-'));
    blob = await createFileBlobStore({ dir });
    target = { blob, prefix: 'sessions/', indexPrefix: 'index/' };
  });
  afterEach(async () => {
    await blob.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('appends each chunk after the chain head and indexes it by hour', async () => {
    expect(await storeChunk(target, chunk(1, 1, ['a', 'b']))).toBe(objectKey(1));
    expect(await storeChunk(target, chunk(1, 5, ['c']))).toBe(objectKey(5));
    expect(JSON.parse(new TextDecoder().decode((await blob.get('sessions/s1/head.json'))!))).toMatchObject({ key: objectKey(5) });
    const index: string[] = [];
    for await (const { key } of blob.list('index/')) index.push(key);
    expect(index).toEqual(['index/1970-01-01T00/s1.00000000000000000001.json', 'index/1970-01-01T00/s1.00000000000000000005.json']);
    expect(await stored()).toEqual(['a', 'b', 'c']);
  });

  it('skips redelivered events the chain already holds, so a lost ack adds nothing', async () => {
    await storeChunk(target, chunk(1, 1, ['a', 'b']));
    expect(await storeChunk(target, chunk(2, 1, ['a', 'b']))).toBeUndefined();
    // A redelivery that brings newer events too files only those, after the head.
    expect(await storeChunk(target, chunk(2, 1, ['a', 'b', 'c']))).toBe(objectKey(3));
    expect(await stored()).toEqual(['a', 'b', 'c']);
    expect((await verifySession(blob, 'sessions/', 's1')).problems.filter((p) => p.kind !== 'unsigned')).toEqual([]);
  });

  it('replaces an object the head does not name yet (a write that died before its head) instead of adding a copy', async () => {
    await storeChunk(target, chunk(1, 1, ['a']));
    await blob.put(objectKey(2), '{"eventId":"b"}\n');
    expect(await storeChunk(target, chunk(2, 2, ['b', 'c']))).toBe(objectKey(2));
    expect(await stored()).toEqual(['a', 'b', 'c']);
    expect((await verifySession(blob, 'sessions/', 's1')).events).toBe(3);
  });

  it('files an event redelivered after newer ones behind them, keeping key order equal to chain order', async () => {
    await storeChunk(target, chunk(1, 5, ['e']));
    expect(await storeChunk(target, chunk(2, 3, ['c']))).toBe(objectKey(6));
    expect((await verifySession(blob, 'sessions/', 's1')).problems.filter((p) => p.kind !== 'unsigned')).toEqual([]);
  });
});
