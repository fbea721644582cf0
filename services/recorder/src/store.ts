import type { BlobStore } from '@airlock/blob';
import type { Logger } from '@airlock/logging';
import type { SessionChunk } from './batch.js';
import { objectKeyFor } from './keys.js';
import { mergeEvents } from './merge.js';
import { fromNdjson, toNdjson } from './ndjson.js';

/**
 * Writes one session's chunk as one object and resolves with its key once the blob store holds it.
 * A first delivery cannot find its key taken, so only a redelivered chunk pays for reading what is there.
 */
export async function storeChunk(blob: BlobStore, prefix: string, chunk: SessionChunk, logger: Logger): Promise<string> {
  const key = objectKeyFor(prefix, chunk.sessionId, chunk.firstSeq);
  let events = chunk.events;
  if ((chunk.messages[0]?.deliveryCount ?? 1) > 1) {
    const existing = await blob.get(key);
    if (existing) {
      try {
        events = mergeEvents(fromNdjson(existing), events);
      } catch {
        // An unreadable object holds nothing recoverable; the redelivered events replace it.
        logger.warn({ key }, 'stored recording is unreadable; overwriting it with the redelivered events');
      }
    }
  }
  await blob.put(key, toNdjson(events), { contentType: 'application/x-ndjson' });
  return key;
}
