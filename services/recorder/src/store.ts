import type { BlobStore } from '@airlock/blob';
import type { Logger } from '@airlock/logging';
import type { SessionChunk } from './batch.js';
import { digestKeyFor, genesisHash, hashesOf, sha256Hex, signDigest, toChainedNdjson, type RecordingDigest, type SigningKey } from './chain.js';
import { chainHeadKeyFor, objectKeyFor, parseObjectKey, sessionPrefix } from './keys.js';
import { mergeEvents } from './merge.js';
import { fromNdjson } from './ndjson.js';

/**
 * Writes one session's chunk as one hash-chained object, then its signed digest, and resolves with the object's key
 * once the blob store holds both. A first delivery cannot find its key taken, so only a redelivered chunk pays for
 * reading what is there.
 *
 * The chain continues from the session's previous object, found through the session's chain head (one small object
 * rewritten after each chunk) rather than a listing, so recorders sharing the durable consumer continue each other's
 * chains at the cost of one read. Only a redelivered chunk older than the head lists the session to find its link.
 */
export async function storeChunk(
  blob: BlobStore,
  prefix: string,
  chunk: SessionChunk,
  logger: Logger,
  signingKey?: SigningKey,
  now: () => number = Date.now,
  links?: Map<string, SessionLink>,
): Promise<string> {
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
  // The link this recorder wrote last for the session saves a list and two reads per object; a redelivery, or an
  // object this recorder did not write last, is linked from the blob store.
  const cached = links?.get(chunk.sessionId);
  const redelivered = (chunk.messages[0]?.deliveryCount ?? 1) > 1;
  const previous = cached && !redelivered && cached.key < key ? cached : await linkBefore(blob, prefix, chunk.sessionId, key);
  const { text, firstHash, lastHash } = toChainedNdjson(events, previous.lastHash);
  await blob.put(key, text, { contentType: 'application/x-ndjson' });
  const digest: RecordingDigest = signDigest(
    {
      version: 1,
      sessionId: chunk.sessionId,
      objectKey: key,
      objectSha256: sha256Hex(text),
      events: events.length,
      firstEventHash: firstHash,
      lastEventHash: lastHash,
      previousEventHash: previous.lastHash,
      previousDigestKey: previous.digestKey,
      previousDigestSha256: previous.digestSha256,
      signedAtMs: now(),
      keyId: '',
      signature: '',
    },
    signingKey,
  );
  const digestText = `${JSON.stringify(digest)}\n`;
  await blob.put(digestKeyFor(key), digestText, { contentType: 'application/json' });
  const link: SessionLink = { key, lastHash, digestKey: digestKeyFor(key), digestSha256: sha256Hex(digestText), previous };
  await blob.put(chainHeadKeyFor(prefix, chunk.sessionId), JSON.stringify(link), { contentType: 'application/json' });
  links?.set(chunk.sessionId, link);
  return key;
}

/** The end of a session's chain as last written, with the link it was chained from. */
export interface SessionLink extends PreviousLink {
  key: string;
  previous: PreviousLink;
}

interface PreviousLink {
  lastHash: string;
  digestKey: string;
  digestSha256: string;
}

const genesis: PreviousLink = { lastHash: genesisHash, digestKey: '', digestSha256: '' };

async function linkBefore(blob: BlobStore, prefix: string, sessionId: string, key: string): Promise<PreviousLink> {
  const stored = await blob.get(chainHeadKeyFor(prefix, sessionId));
  if (!stored) return genesis;
  const head = JSON.parse(new TextDecoder().decode(stored)) as SessionLink;
  if (head.key < key) return head;
  if (head.key === key) return head.previous;
  return previousLink(blob, prefix, sessionId, key);
}

async function previousLink(blob: BlobStore, prefix: string, sessionId: string, key: string): Promise<PreviousLink> {
  let previousKey: string | undefined;
  for await (const entry of blob.list(sessionPrefix(prefix, sessionId))) {
    if (entry.key < key && parseObjectKey(prefix, entry.key)?.sessionId === sessionId && (!previousKey || entry.key > previousKey)) previousKey = entry.key;
  }
  if (!previousKey) return genesis;
  const body = await blob.get(previousKey);
  const lines = body ? new TextDecoder().decode(body).split('\n').filter((line) => line.trim() !== '') : [];
  const last = lines.length > 0 ? hashesOf(lines[lines.length - 1]!) : undefined;
  const digestKey = digestKeyFor(previousKey);
  const digest = await blob.get(digestKey);
  return { lastHash: last?.hash ?? genesisHash, digestKey: digest ? digestKey : '', digestSha256: digest ? sha256Hex(digest) : '' };
}
