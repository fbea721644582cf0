import { describe, expect, it } from 'vitest';
import type { BlobStore } from '@airlock/blob';
import type { ConsumedMessage } from '@airlock/bus';
import type { SessionEvent } from '@airlock/contracts';
import { createLogger } from '@airlock/logging';
import type { SessionChunk } from './batch.js';
import { fromNdjson, toNdjson } from './ndjson.js';
import { storeChunk } from './store.js';

const logger = createLogger({ service: 'recorder', level: 'silent' });
const event = (eventId: string): SessionEvent => ({ eventId, sessionId: 's1', atMs: 1, edgeId: 'edge', body: { $case: 'ended', value: { reason: eventId } } });
const key = 'sessions/s1/00000000000000000001.ndjson';

function memoryBlob(initial: Record<string, string> = {}): BlobStore & { objects: Map<string, string>; gets: number; lists: number } {
  const objects = new Map(Object.entries(initial));
  const store = {
    objects,
    gets: 0,
    lists: 0,
    async put(k: string, body: Uint8Array | string) {
      objects.set(k, typeof body === 'string' ? body : new TextDecoder().decode(body));
    },
    async get(k: string) {
      store.gets++;
      const body = objects.get(k);
      return body === undefined ? null : new TextEncoder().encode(body);
    },
    list() {
      store.lists++;
      return (async function* () {})();
    },
    async close() {},
  };
  return store;
}

function chunk(deliveryCount: number, eventIds: string[]): SessionChunk {
  const messages = eventIds.map(
    (_, index): ConsumedMessage => ({ subject: 'airlock.sessions.s1', data: new Uint8Array(), headers: {}, seq: index + 1, deliveryCount, ack: async () => undefined, nak: () => undefined, term: () => undefined }),
  );
  return { sessionId: 's1', firstSeq: 1, messages, events: eventIds.map(event) };
}

describe('storeChunk', () => {
  it('writes a first delivery reading only the chain head, never listing the session', async () => {
    const blob = memoryBlob();
    expect(await storeChunk(blob, 'sessions/', chunk(1, ['a', 'b']), logger)).toBe(key);
    expect(blob.gets).toBe(1);
    expect(blob.lists).toBe(0);
    expect(JSON.parse(blob.objects.get('sessions/s1/head.json') ?? '{}')).toMatchObject({ key });
    expect(fromNdjson(blob.objects.get(key)!).map((e) => e.eventId)).toEqual(['a', 'b']);
  });

  it('keeps what an earlier write stored when a smaller batch is redelivered under the same key', async () => {
    const blob = memoryBlob({ [key]: toNdjson([event('a'), event('b'), event('c')]) });
    await storeChunk(blob, 'sessions/', chunk(2, ['a']), logger);
    expect(fromNdjson(blob.objects.get(key)!).map((e) => e.eventId)).toEqual(['a', 'b', 'c']);
  });

  it('replaces an unreadable object with the redelivered events', async () => {
    const blob = memoryBlob({ [key]: '{not json\n' });
    await storeChunk(blob, 'sessions/', chunk(2, ['a']), logger);
    expect(fromNdjson(blob.objects.get(key)!).map((e) => e.eventId)).toEqual(['a']);
  });
});
