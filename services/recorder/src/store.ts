import type { BlobStore } from '@airlock/blob';
import type { SessionEvent } from '@airlock/contracts';
import type { SessionChunk } from './batch.js';
import { digestKeyFor, genesisHash, sha256Hex, signDigest, toChainedNdjson, type RecordingDigest, type SigningKey } from './chain.js';
import { parseDigest, readHead, type SessionLink } from './chain-walk.js';
import { chainHeadKeyFor, indexEntryKeyFor, keySeqOf, objectKeyFor } from './keys.js';
import { eventIdOf } from './ndjson.js';
import { indexEntriesFor } from './session-index.js';

export interface StoreTarget {
  blob: BlobStore;
  prefix: string;
  indexPrefix: string;
  signingKey?: SigningKey;
  now?: () => number;
  /** The chain head this recorder wrote last per session: saves a read per object. */
  links?: Map<string, SessionLink>;
}

/**
 * Appends one session's chunk to its recording: the hash-chained object, its signed digest and its index entries,
 * then the chain head that names them. Resolves with the object's key, or undefined when a redelivered chunk held
 * nothing new. Written objects are never rewritten once the head names them (append-only, which suits Object Lock).
 *
 * Exactly once: a redelivered chunk drops the events the chain already holds (by event id), so an ack lost after
 * the head was written adds nothing. A crash before the head was written leaves objects the chain does not name;
 * the redelivered chunk gets the same key (its first sequence), so it replaces them.
 */
export async function storeChunk(target: StoreTarget, chunk: SessionChunk): Promise<string | undefined> {
  const { blob, prefix, links } = target;
  const redelivered = chunk.messages.some((message) => message.deliveryCount > 1);
  const cached = links?.get(chunk.sessionId);
  const head = cached && !redelivered ? cached : await readHead(blob, prefix, chunk.sessionId);
  let events = chunk.events;
  let firstSeq = chunk.firstSeq;
  if (redelivered && head) {
    const stored = await storedEventIds(blob, head, chunk.firstSeq);
    const fresh = chunk.events.map((event, index) => ({ event, seq: chunk.messages[index]?.seq ?? chunk.firstSeq })).filter(({ event }) => !event.eventId || !stored.has(event.eventId));
    if (fresh.length === 0) return undefined;
    events = fresh.map(({ event }) => event);
    firstSeq = fresh[0]!.seq;
  }
  // Key order is chain order: an event redelivered after newer ones were filed is appended after them, not before.
  const key = objectKeyFor(prefix, chunk.sessionId, head ? Math.max(firstSeq, keySeqOf(head.key) + 1) : firstSeq);
  const link = await appendObject(target, chunk.sessionId, key, events, head);
  links?.set(chunk.sessionId, link);
  return key;
}

async function appendObject(target: StoreTarget, sessionId: string, key: string, events: readonly SessionEvent[], previous: SessionLink | undefined): Promise<SessionLink> {
  const { blob } = target;
  const previousHash = previous?.lastHash ?? genesisHash;
  const { text, firstHash, lastHash } = toChainedNdjson(events, previousHash);
  await blob.put(key, text, { contentType: 'application/x-ndjson' });
  const digest: RecordingDigest = signDigest(
    {
      version: 1,
      sessionId,
      objectKey: key,
      objectSha256: sha256Hex(text),
      events: events.length,
      firstEventHash: firstHash,
      lastEventHash: lastHash,
      previousEventHash: previousHash,
      previousDigestKey: previous?.digestKey ?? '',
      previousDigestSha256: previous?.digestSha256 ?? '',
      signedAtMs: (target.now ?? Date.now)(),
      keyId: '',
      signature: '',
    },
    target.signingKey,
  );
  const digestText = `${JSON.stringify(digest)}\n`;
  // The head goes last: until it names the object, a crash leaves nothing the chain depends on.
  await Promise.all([
    blob.put(digestKeyFor(key), digestText, { contentType: 'application/json' }),
    ...indexEntriesFor(sessionId, key, events).map((entry) =>
      blob.put(indexEntryKeyFor(target.indexPrefix, entry.hourStartMs, key, sessionId), JSON.stringify(entry), { contentType: 'application/json' }),
    ),
  ]);
  const link: SessionLink = { key, lastHash, digestKey: digestKeyFor(key), digestSha256: sha256Hex(digestText) };
  await blob.put(chainHeadKeyFor(target.prefix, sessionId), JSON.stringify(link), { contentType: 'application/json' });
  return link;
}

/**
 * Event ids of the objects that can hold stream sequence `fromSeq` or later, newest first. Objects are keyed by the
 * first sequence they were filed at and first deliveries arrive in stream order, so every object that can hold
 * `fromSeq` comes at or after the newest one keyed at or below it; the walk stops there. How far back that is depends
 * on how late the redelivery is, not on a fixed count.
 */
async function storedEventIds(blob: BlobStore, head: SessionLink, fromSeq: number): Promise<Set<string>> {
  const ids = new Set<string>();
  const seen = new Set<string>();
  let digestKey = head.digestKey;
  while (digestKey && !seen.has(digestKey)) {
    seen.add(digestKey);
    const digest = parseDigest(await blob.get(digestKey));
    if (!digest) break;
    const body = await blob.get(digest.objectKey);
    for (const line of body ? new TextDecoder().decode(body).split('\n') : []) {
      const eventId = eventIdOf(line);
      if (eventId) ids.add(eventId);
    }
    if (keySeqOf(digest.objectKey) <= fromSeq) break;
    digestKey = digest.previousDigestKey;
  }
  return ids;
}
