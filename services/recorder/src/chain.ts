import { createHash, createPrivateKey, createPublicKey, sign as signBytes, verify as verifySignature, type KeyObject } from 'node:crypto';
import { SessionEvent } from '@airlock/contracts';
import { AirlockError } from '@airlock/errors';

/**
 * Tamper evidence for recordings, in the spirit of CloudTrail's digest files.
 *
 * - Every NDJSON line is the event's canonical JSON (`SessionEvent.toJSON`, keys in contract order) plus
 *   `prevHash` and `hash`, where `hash = sha256(prevHash + "\n" + canonical)` in hex. The chain runs per session
 *   across objects: the first line of an object carries the last hash of the session's previous object; the very
 *   first event of a session has `prevHash` = {@link genesisHash}.
 * - Every object gets a detached digest `<object key minus .ndjson>.digest.json`: the object's sha256, its first and
 *   last event hashes, the key and sha256 of the previous digest, the key id, and an Ed25519 signature over the
 *   digest's canonical JSON without its `signature` field.
 */
export const genesisHash = '0'.repeat(64);

export interface ChainedLine {
  event: SessionEvent;
  prevHash: string;
  hash: string;
}

export function canonicalEvent(event: SessionEvent): string {
  return JSON.stringify(SessionEvent.toJSON(event));
}

export function chainHash(prevHash: string, canonical: string): string {
  return createHash('sha256').update(`${prevHash}\n${canonical}`).digest('hex');
}

export function sha256Hex(body: Uint8Array | string): string {
  return createHash('sha256').update(body).digest('hex');
}

/** Chains `events` after `prevHash`; the NDJSON text and the last hash. */
export function toChainedNdjson(events: readonly SessionEvent[], prevHash: string): { text: string; firstHash: string; lastHash: string } {
  let prev = prevHash;
  let firstHash = '';
  const lines: string[] = [];
  for (const event of events) {
    const canonical = canonicalEvent(event);
    const hash = chainHash(prev, canonical);
    firstHash ||= hash;
    // The hash fields go last so a reader can strip them and get the canonical line back byte for byte.
    lines.push(`${canonical.slice(0, -1)}${canonical === '{}' ? '' : ','}"prevHash":"${prev}","hash":"${hash}"}\n`);
    prev = hash;
  }
  return { text: lines.join(''), firstHash, lastHash: prev };
}

/** The hash fields of one stored line, or undefined for a line written before chaining existed. */
export function hashesOf(line: string): { prevHash: string; hash: string } | undefined {
  try {
    const parsed = JSON.parse(line) as { prevHash?: unknown; hash?: unknown };
    return typeof parsed.prevHash === 'string' && typeof parsed.hash === 'string' ? { prevHash: parsed.prevHash, hash: parsed.hash } : undefined;
  } catch {
    return undefined;
  }
}

/** The canonical JSON a chained line was hashed over: the line without its trailing hash fields. */
export function canonicalOf(line: string): string | undefined {
  const match = /,?"prevHash":"[0-9a-f]{64}","hash":"[0-9a-f]{64}"\}$/.exec(line);
  return match ? `${line.slice(0, match.index)}}` : undefined;
}

export interface RecordingDigest {
  version: 1;
  sessionId: string;
  objectKey: string;
  objectSha256: string;
  events: number;
  firstEventHash: string;
  lastEventHash: string;
  /** The event hash the object's first line chains to (the previous object's last hash, or the genesis hash). */
  previousEventHash: string;
  previousDigestKey: string;
  previousDigestSha256: string;
  signedAtMs: number;
  /** Key id of the Ed25519 key that signed; empty when the recorder has no signing key (the digest is unsigned). */
  keyId: string;
  /** Base64 Ed25519 signature over {@link digestSigningInput}; empty when unsigned. */
  signature: string;
}

export function digestKeyFor(objectKey: string): string {
  return objectKey.replace(/\.ndjson$/, '.digest.json');
}

export function digestSigningInput(digest: RecordingDigest): Buffer {
  const { signature: _signature, ...unsigned } = digest;
  return Buffer.from(JSON.stringify(unsigned));
}

export interface SigningKey {
  keyId: string;
  privateKey: KeyObject;
  publicKey: KeyObject;
}

/**
 * Parses `kid:base64` where base64 is a PKCS#8 DER Ed25519 private key, or a 32-byte raw seed. The public key is
 * derived from it, so verifying where the signing key is available needs nothing else.
 */
export function parseSigningKey(value: string, source: string): SigningKey {
  const separator = value.indexOf(':');
  const keyId = value.slice(0, separator).trim();
  const material = Buffer.from(value.slice(separator + 1).trim(), 'base64');
  if (separator <= 0 || material.length === 0) {
    throw new AirlockError('InvalidConfiguration', `${source} must hold "kid:base64-ed25519-private-key".`);
  }
  try {
    const der = material.length === 32 ? Buffer.concat([Buffer.from('302e020100300506032b657004220420', 'hex'), material]) : material;
    const privateKey = createPrivateKey({ key: der, format: 'der', type: 'pkcs8' });
    if (privateKey.asymmetricKeyType !== 'ed25519') throw new Error(`a ${privateKey.asymmetricKeyType} key`);
    return { keyId, privateKey, publicKey: createPublicKey(privateKey) };
  } catch (error) {
    throw new AirlockError('InvalidConfiguration', `${source} does not hold an Ed25519 private key.`, { cause: error });
  }
}

export function signDigest(digest: RecordingDigest, key: SigningKey | undefined): RecordingDigest {
  if (!key) return { ...digest, keyId: '', signature: '' };
  const unsigned = { ...digest, keyId: key.keyId, signature: '' };
  return { ...unsigned, signature: signBytes(null, digestSigningInput(unsigned), key.privateKey).toString('base64') };
}

export function digestSignatureValid(digest: RecordingDigest, publicKey: KeyObject): boolean {
  try {
    return verifySignature(null, digestSigningInput(digest), publicKey, Buffer.from(digest.signature, 'base64'));
  } catch {
    return false;
  }
}
