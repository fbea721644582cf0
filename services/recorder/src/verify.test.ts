import { generateKeyPairSync } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createFileBlobStore, type BlobStore } from '@airlock/blob';
import type { ConsumedMessage } from '@airlock/bus';
import type { SessionEvent } from '@airlock/contracts';
import type { SessionChunk } from './batch.js';
import { parseSigningKey, type SigningKey } from './chain.js';
import { storeChunk } from './store.js';
import { verifySession } from './verify.js';

const ended = (eventId: string, atMs: number): SessionEvent => ({ eventId, sessionId: 's1', atMs, edgeId: 'edge-1', body: { $case: 'ended', value: { reason: `r-${eventId}` } } });
const message = (seq: number): ConsumedMessage => ({ subject: 'x', data: new Uint8Array(), headers: {}, seq, deliveryCount: 1, ack: async () => undefined, nak: () => undefined, term: () => undefined });
const chunk = (firstSeq: number, ids: string[]): SessionChunk => ({
  sessionId: 's1',
  firstSeq,
  messages: ids.map((_, i) => message(firstSeq + i)),
  events: ids.map((id, i) => ended(id, firstSeq + i)),
});

function newKey(keyId = 'rec-1'): SigningKey {
  const { privateKey } = generateKeyPairSync('ed25519');
  return parseSigningKey(`${keyId}:${privateKey.export({ format: 'der', type: 'pkcs8' }).toString('base64')}`, 'test');
}

describe('recording hash chain and digests', () => {
  let dir: string;
  let blob: BlobStore;
  const key = newKey();
  const trusted = { [key.keyId]: key.publicKey };
  const object = (seq: number) => `sessions/s1/${String(seq).padStart(20, '0')}.ndjson`;

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'airlock-verify-'));
    blob = await createFileBlobStore({ dir });
    for (const stored of [chunk(1, ['a', 'b', 'c']), chunk(4, ['d', 'e']), chunk(6, ['f'])]) await storeChunk({ blob, prefix: 'sessions/', indexPrefix: 'index/', signingKey: key }, stored);
  });
  afterEach(async () => {
    await blob.close();
    await rm(dir, { recursive: true, force: true });
  });

  /** Where the file blob store keeps a key of session s1: segments percent-encoded, ".b" appended. */
  const filePath = (name: string) => join(dir, 'sessions', 's1', `${name.replaceAll('.', '%2E')}.b`);
  const text = async (k: string) => new TextDecoder().decode((await blob.get(k))!);

  it('chains lines across objects and verifies an untouched recording as signed', async () => {
    const first = (await text(object(1))).trim().split('\n').map((line) => JSON.parse(line) as { prevHash: string; hash: string });
    const second = JSON.parse((await text(object(4))).split('\n')[0]!) as { prevHash: string };
    expect(first[0]!.prevHash).toBe('0'.repeat(64));
    expect(first[1]!.prevHash).toBe(first[0]!.hash);
    expect(second.prevHash).toBe(first[2]!.hash);
    const digest = JSON.parse(await text('sessions/s1/00000000000000000004.digest.json')) as Record<string, unknown>;
    expect(digest).toMatchObject({ keyId: 'rec-1', previousDigestKey: 'sessions/s1/00000000000000000001.digest.json', events: 2 });
    expect(await verifySession(blob, 'sessions/', 's1', trusted)).toEqual({ sessionId: 's1', ok: true, objects: 3, events: 6, signed: true, problems: [] });
  });

  it('reports one changed byte as tampering, naming the object and the line', async () => {
    const body = Buffer.from((await blob.get(object(4)))!);
    const at = body.indexOf('r-e');
    body[at + 2] = 'x'.charCodeAt(0);
    await blob.put(object(4), body);
    const report = await verifySession(blob, 'sessions/', 's1', trusted);
    expect(report.ok).toBe(false);
    expect(report.problems).toContainEqual(expect.objectContaining({ kind: 'tampered', key: object(4), line: 2 }));
    expect(report.problems).toContainEqual(expect.objectContaining({ kind: 'tampered', key: object(4), line: 0 }));
  });

  it('reports a missing object as a gap', async () => {
    await rm(filePath('00000000000000000004.ndjson'));
    const report = await verifySession(blob, 'sessions/', 's1', trusted);
    expect(report.ok).toBe(false);
    expect(report.problems).toContainEqual(expect.objectContaining({ kind: 'gap', key: object(4), line: 0 }));
    // With its digest gone too, the chain itself still shows the gap at the next object.
    await rm(filePath('00000000000000000004.digest.json'));
    const again = await verifySession(blob, 'sessions/', 's1', trusted);
    expect(again.problems).toContainEqual(expect.objectContaining({ kind: 'gap', key: object(6), line: 1 }));
  });

  it('reports a missing newest object as truncation, which only the chain head can show', async () => {
    await rm(filePath('00000000000000000006.ndjson'));
    expect((await verifySession(blob, 'sessions/', 's1', trusted)).problems).toEqual([expect.objectContaining({ kind: 'truncated', key: object(6), line: 0 })]);
    // With its digest gone too, what is left is a consistent chain; the head still names the digest.
    await rm(filePath('00000000000000000006.digest.json'));
    const report = await verifySession(blob, 'sessions/', 's1', trusted);
    expect(report.ok).toBe(false);
    expect(report.problems).toEqual([expect.objectContaining({ kind: 'truncated', key: 'sessions/s1/00000000000000000006.digest.json' })]);
    expect(report.events).toBe(5);
  });

  it('reports swapped lines as reordering', async () => {
    const lines = (await text(object(1))).trim().split('\n');
    await blob.put(object(1), `${[lines[0], lines[2], lines[1]].join('\n')}\n`);
    const report = await verifySession(blob, 'sessions/', 's1', trusted);
    expect(report.problems).toContainEqual(expect.objectContaining({ kind: 'reordered', key: object(1), line: 2 }));
  });

  it('reports a digest re-signed by an unknown key or edited after signing', async () => {
    const digestKey = 'sessions/s1/00000000000000000006.digest.json';
    const digest = JSON.parse(await text(digestKey)) as Record<string, unknown>;
    await blob.put(digestKey, JSON.stringify({ ...digest, signedAtMs: 1 }));
    expect((await verifySession(blob, 'sessions/', 's1', trusted)).problems).toContainEqual(expect.objectContaining({ kind: 'bad-signature', key: digestKey }));
    expect((await verifySession(blob, 'sessions/', 's1', {})).problems).toContainEqual(expect.objectContaining({ kind: 'bad-signature', key: digestKey }));
  });

  it('rejects a signing key that is not Ed25519', () => {
    expect(() => parseSigningKey('k:bm90IGEga2V5', 'AIRLOCK_RECORDER_SIGNING_KEY')).toThrow(/Ed25519/);
    expect(() => parseSigningKey('no-separator', 'AIRLOCK_RECORDER_SIGNING_KEY')).toThrow(/kid:base64/);
  });
});
