import type { KeyObject } from 'node:crypto';
import type { BlobStore } from '@airlock/blob';
import { canonicalOf, chainHash, digestKeyFor, digestSignatureValid, genesisHash, hashesOf, sha256Hex } from './chain.js';
import { parseDigest, walkChain } from './chain-walk.js';

export type ProblemKind = 'tampered' | 'gap' | 'truncated' | 'reordered' | 'missing-digest' | 'bad-signature' | 'unsigned' | 'unchained';

export interface VerificationProblem {
  kind: ProblemKind;
  /** The object or digest key the problem is in. */
  key: string;
  /** 1-based line in the object, 0 when the problem is about a whole object or digest. */
  line: number;
  message: string;
}

export interface VerificationReport {
  sessionId: string;
  ok: boolean;
  objects: number;
  events: number;
  /** True when every digest was signed by a trusted key and its signature checks. */
  signed: boolean;
  problems: VerificationProblem[];
}

/**
 * Checks a session's recording: every line's hash, the chain from line to line and object to object, each object
 * against its digest (sha256, first/last hash), the chain of digests, and each digest's Ed25519 signature against the
 * trusted keys (by key id). `unsigned` problems are reported but do not fail the report: a recorder without a signing
 * key gives hash-chain evidence only.
 *
 * The objects are found from the chain head backwards (see walkChain), so a missing newest object — which a listing
 * cannot reveal, since nothing after it chains to it — is reported as `truncated`: the head still names it.
 */
export async function verifySession(
  blob: BlobStore,
  prefix: string,
  sessionId: string,
  trustedKeys: Readonly<Record<string, KeyObject>> = {},
): Promise<VerificationReport> {
  const walk = await walkChain(blob, prefix, sessionId);
  const problems: VerificationProblem[] = walk.problems.map((found) => ({ ...found, line: 0 }));
  const problem = (kind: ProblemKind, key: string, line: number, message: string) => problems.push({ kind, key, line, message });

  const seenHashes = new Set<string>();
  let prevHash = genesisHash;
  let prevKey = '';
  let prevDigestKey = '';
  let prevDigestSha = '';
  let events = 0;
  let objects = 0;
  let allSigned = walk.keys.length > 0;
  for (const [index, key] of walk.keys.entries()) {
    const stored = await blob.get(key);
    if (!stored) {
      const last = index === walk.keys.length - 1;
      problem(last ? 'truncated' : 'gap', key, 0, `the object is missing but its digest is present${last ? ': the end of the recording is gone' : ''}`);
      // Continue the chain from the missing object's digest, so what follows is judged on its own.
      const digestBody = await blob.get(digestKeyFor(key));
      prevHash = (digestBody && parseDigest(digestBody)?.lastEventHash) || prevHash;
      prevDigestKey = digestKeyFor(key);
      prevDigestSha = digestBody ? sha256Hex(digestBody) : prevDigestSha;
      prevKey = key;
      continue;
    }
    objects++;
    const body = stored;
    const lines = new TextDecoder().decode(body).split('\n');
    if (lines.at(-1) === '') lines.pop();
    let firstHash = '';
    const chainStart = prevHash;
    lines.forEach((line, index) => {
      const lineNo = index + 1;
      const hashes = hashesOf(line);
      const canonical = canonicalOf(line);
      if (!hashes || canonical === undefined) {
        problem('unchained', key, lineNo, 'the line carries no prevHash/hash (unreadable, or written before chaining)');
        return;
      }
      events++;
      firstHash ||= hashes.hash;
      if (chainHash(hashes.prevHash, canonical) !== hashes.hash) {
        problem('tampered', key, lineNo, `the line's content does not match its hash ${hashes.hash.slice(0, 12)}…: it was changed after it was written`);
      } else if (hashes.prevHash !== prevHash) {
        if (seenHashes.has(hashes.prevHash) || lines.some((other) => hashesOf(other)?.hash === hashes.prevHash)) {
          problem('reordered', key, lineNo, `the event chains to ${hashes.prevHash.slice(0, 12)}…, not to the event before it (${prevHash.slice(0, 12)}…): events are out of order`);
        } else if (index === 0) {
          problem('gap', key, lineNo, `the object's first event follows ${hashes.prevHash.slice(0, 12)}…, which is not the last event of ${prevKey || 'the session start'}: an object or events are missing before it`);
        } else {
          problem('gap', key, lineNo, `the event follows ${hashes.prevHash.slice(0, 12)}…, which is not the event before it: events are missing before it`);
        }
      }
      seenHashes.add(hashes.hash);
      prevHash = hashes.hash;
    });

    const digestKey = digestKeyFor(key);
    const digestBody = await blob.get(digestKey);
    if (!digestBody) {
      problem('missing-digest', digestKey, 0, `the digest of ${key} is missing`);
      allSigned = false;
    } else {
      const digest = parseDigest(digestBody);
      if (!digest) problem('tampered', digestKey, 0, 'the digest is not a readable digest (JSON with its object and previous digest)');
      if (digest) {
        if (digest.objectSha256 !== sha256Hex(body)) problem('tampered', key, 0, `the object's sha256 ${sha256Hex(body).slice(0, 12)}… differs from its digest's ${String(digest.objectSha256).slice(0, 12)}…`);
        if (digest.firstEventHash !== firstHash || digest.lastEventHash !== prevHash) problem('tampered', key, 0, 'the first or last event hash differs from the digest');
        if (digest.previousEventHash !== chainStart && digest.previousEventHash !== undefined) {
          problem('gap', key, 0, `the digest chains to event ${String(digest.previousEventHash).slice(0, 12)}…, not to the last event of ${prevKey || 'the session start'}`);
        }
        if (digest.previousDigestKey !== prevDigestKey || digest.previousDigestSha256 !== prevDigestSha) {
          problem('gap', digestKey, 0, `the digest follows ${digest.previousDigestKey || 'nothing'}, expected ${prevDigestKey || 'nothing'} with sha256 ${prevDigestSha.slice(0, 12) || '-'}: a digest is missing or was changed`);
        }
        if (!digest.signature || !digest.keyId) {
          problem('unsigned', digestKey, 0, 'the digest is not signed (the recorder had no signing key)');
          allSigned = false;
        } else {
          const key = trustedKeys[digest.keyId];
          if (!key) {
            problem('bad-signature', digestKey, 0, `signed by key ${digest.keyId}, which the verifier does not trust or know`);
            allSigned = false;
          } else if (!digestSignatureValid(digest, key)) {
            problem('bad-signature', digestKey, 0, `the signature of key ${digest.keyId} does not match the digest: it was changed after it was signed`);
            allSigned = false;
          }
        }
      }
      prevDigestKey = digestKey;
      prevDigestSha = sha256Hex(digestBody);
    }
    prevKey = key;
  }
  return {
    sessionId,
    ok: objects > 0 && problems.every((p) => p.kind === 'unsigned'),
    objects,
    events,
    signed: allSigned,
    problems,
  };
}
