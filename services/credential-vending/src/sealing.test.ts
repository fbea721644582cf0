import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { parseKeyRing } from './sealing.js';

const keyA = randomBytes(32).toString('base64');
const keyB = randomBytes(32).toString('base64');

describe('parseKeyRing', () => {
  it('seals with the first key and opens with any, bound to the store key', () => {
    const ring = parseKeyRing(`a:${keyA}`, 'TEST_KEY');
    const sealed = ring.seal('{"secretAccessKey":"s3cr3t"}', 'credentials:v1:x');
    expect(sealed).toMatch(/^v1\.a\./);
    expect(sealed).not.toContain('s3cr3t');
    expect(ring.open(sealed, 'credentials:v1:x')).toBe('{"secretAccessKey":"s3cr3t"}');
    // Copied to another entry, or sealed twice: different context fails, and no two seals look alike.
    expect(ring.open(sealed, 'credentials:v1:y')).toBeUndefined();
    expect(ring.seal('same', 'k')).not.toBe(ring.seal('same', 'k'));
  });

  it('rotates by key id: the new key seals, the old one still opens', () => {
    const before = parseKeyRing(`a:${keyA}`, 'TEST_KEY');
    const during = parseKeyRing(`b:${keyB},a:${keyA}`, 'TEST_KEY');
    const after = parseKeyRing(`b:${keyB}`, 'TEST_KEY');
    const old = before.seal('v', 'k');
    expect(during.open(old, 'k')).toBe('v');
    expect(during.sealingKeyId).toBe('b');
    expect(after.open(old, 'k')).toBeUndefined();
    expect(after.open(during.seal('w', 'k'), 'k')).toBe('w');
  });

  it('refuses altered values', () => {
    const ring = parseKeyRing(`a:${keyA}`, 'TEST_KEY');
    const parts = ring.seal('value', 'k').split('.');
    const flipped = Buffer.from(parts[3]!, 'base64url');
    flipped[0]! ^= 1;
    expect(ring.open([...parts.slice(0, 3), flipped.toString('base64url'), parts[4]].join('.'), 'k')).toBeUndefined();
    // A truncated tag is not checked on fewer bytes.
    expect(ring.open([...parts.slice(0, 4), parts[4]!.slice(0, 6)].join('.'), 'k')).toBeUndefined();
    expect(ring.open('not sealed', 'k')).toBeUndefined();
  });

  it.each([
    ['', 'empty'],
    [`${keyA}`, 'no kid'],
    ['a:c2hvcnQ=', 'short key'],
    [`a:${keyA},a:${keyB}`, 'duplicate kid'],
    [`a b:${keyA}`, 'bad kid'],
  ])('refuses %j (%s) without echoing key material', (spec) => {
    let message = '';
    try {
      parseKeyRing(spec, 'TEST_KEY');
    } catch (error) {
      message = (error as Error).message;
      expect(error).toMatchObject({ code: 'InvalidConfiguration' });
    }
    expect(message).toContain('TEST_KEY');
    expect(message).not.toContain(keyA);
    expect(message).not.toContain(keyB);
  });
});
