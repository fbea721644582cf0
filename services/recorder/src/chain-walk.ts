import type { BlobStore } from '@airlock/blob';
import type { RecordingDigest } from './chain.js';
import { chainHeadKeyFor, parseObjectKey, sessionPrefix } from './keys.js';

/** The end of a session's chain as last written: the newest object, its last event hash and its digest. */
export interface SessionLink {
  key: string;
  lastHash: string;
  digestKey: string;
  digestSha256: string;
}

export async function readHead(blob: BlobStore, prefix: string, sessionId: string): Promise<SessionLink | undefined> {
  const stored = await blob.get(chainHeadKeyFor(prefix, sessionId));
  if (!stored) return undefined;
  try {
    const head = JSON.parse(new TextDecoder().decode(stored)) as Partial<SessionLink>;
    return typeof head.key === 'string' && typeof head.digestKey === 'string' ? (head as SessionLink) : undefined;
  } catch {
    return undefined;
  }
}

export interface WalkProblem {
  kind: 'gap' | 'truncated';
  key: string;
  message: string;
}

export interface ChainWalk {
  head: SessionLink | undefined;
  /** The session's objects, oldest first. */
  keys: string[];
  problems: WalkProblem[];
}

/**
 * Finds a session's objects by following its digests back from the chain head (each digest names its object and
 * the digest before it), the way CloudTrail digest files are followed: no listing, so it works on stores that
 * cannot list (or where listing is slow or costly), and the chain itself says what must exist. Only when the walk
 * breaks (a digest missing or unreadable, or no head) is the session's folder listed for the older objects, and
 * the break is reported.
 */
export async function walkChain(blob: BlobStore, prefix: string, sessionId: string): Promise<ChainWalk> {
  const head = await readHead(blob, prefix, sessionId);
  const problems: WalkProblem[] = [];
  const walked: string[] = [];
  const seen = new Set<string>();
  let digestKey = head?.digestKey ?? '';
  let namedBy = 'the chain head';
  let broken = head === undefined;
  while (digestKey && !seen.has(digestKey)) {
    seen.add(digestKey);
    const digest = parseDigest(await blob.get(digestKey));
    if (!digest) {
      const last = walked.length === 0;
      problems.push({
        kind: last ? 'truncated' : 'gap',
        key: digestKey,
        message: `the digest named by ${namedBy} is missing or unreadable${last ? ': the end of the recording is gone' : ''}`,
      });
      broken = true;
      break;
    }
    walked.push(digest.objectKey);
    namedBy = `the digest of ${digest.objectKey}`;
    digestKey = digest.previousDigestKey;
  }
  walked.reverse();
  if (!broken) return { head, keys: walked, problems };

  // The chain cannot say what came before the break: fall back to the session's folder for older objects.
  const before = walked[0];
  const older: string[] = [];
  try {
    for await (const { key } of blob.list(sessionPrefix(prefix, sessionId))) {
      if (parseObjectKey(prefix, key)?.sessionId === sessionId && (before === undefined || key < before) && !walked.includes(key)) older.push(key);
    }
  } catch (error) {
    problems.push({ kind: 'gap', key: before ?? sessionPrefix(prefix, sessionId), message: `objects before this point cannot be found: the chain is broken and listing failed (${error instanceof Error ? error.message : String(error)})` });
  }
  if (head === undefined && older.length > 0) problems.push({ kind: 'truncated', key: chainHeadKeyFor(prefix, sessionId), message: 'the chain head is missing: the newest objects may be gone' });
  return { head, keys: [...older.sort(), ...walked], problems };
}

export function parseDigest(body: Uint8Array | null): RecordingDigest | undefined {
  if (!body) return undefined;
  try {
    const digest = JSON.parse(new TextDecoder().decode(body)) as Partial<RecordingDigest>;
    return typeof digest.objectKey === 'string' && typeof digest.previousDigestKey === 'string' ? (digest as RecordingDigest) : undefined;
  } catch {
    return undefined;
  }
}
