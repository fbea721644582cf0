import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import type { AirlockError } from '@airlock/errors';
import { isSessionAccessKeyId, newAccessKeyId } from './access-key-id.js';
import { parseSessionKeyRing } from './session-keys.js';

const secret32 = randomBytes(32).toString('base64');
const secret64url = randomBytes(64).toString('base64url');

describe('parseSessionKeyRing', () => {
  it('reads the current key first and the previous keys after it', () => {
    const ring = parseSessionKeyRing(` k2:${secret32} , k1:${secret64url}`);
    expect(ring.current.id).toBe('k2');
    expect(Buffer.from(ring.current.secret).toString('base64')).toBe(secret32);
    expect(ring.previous?.map((key) => key.id)).toEqual(['k1']);
    expect(ring.previous?.[0]?.secret.byteLength).toBe(64);
  });

  it('reads a single key', () => {
    expect(parseSessionKeyRing(`only:${secret32}`)).toEqual({ current: { id: 'only', secret: expect.any(Uint8Array) as Uint8Array } });
  });

  it.each([
    ['', /empty/],
    [`${secret32}`, /entry 1 is not "kid:base64secret"/],
    [`k1:`, /entry 1/],
    [`k1:${secret32},k2:not*base64!`, /k2 is not valid base64/],
    [`k1:${randomBytes(16).toString('base64')}`, /shorter than 32 bytes/],
    [`k1:${secret32},k1:${secret64url}`, /twice/],
  ])('refuses %j', (value, message) => {
    expect(() => parseSessionKeyRing(value)).toThrow(message);
    expect(() => parseSessionKeyRing(value)).toThrow(expect.objectContaining({ code: 'InvalidConfiguration' }) as AirlockError);
  });

  it('never repeats a secret in its errors', () => {
    const short = randomBytes(16).toString('base64');
    try {
      parseSessionKeyRing(`k1:${short}`);
      expect.unreachable();
    } catch (error) {
      expect((error as Error).message).not.toContain(short);
    }
  });
});

describe('access key ids', () => {
  it("are 'ALSA' and 16 base32 characters, random, and never an AWS prefix", () => {
    const ids = Array.from({ length: 5000 }, newAccessKeyId);
    expect(ids.every(isSessionAccessKeyId)).toBe(true);
    expect(ids.every((id) => /^ALSA[A-Z2-7]{16}$/.test(id))).toBe(true);
    expect(new Set(ids).size).toBe(ids.length);
    // Every base32 symbol shows up in every position over enough draws: the bits are used, not padded.
    const lastChars = new Set(ids.map((id) => id.at(-1)));
    expect(lastChars.size).toBe(32);
    expect(isSessionAccessKeyId('AKIAIOSFODNN7EXAMPLE')).toBe(false);
    expect(isSessionAccessKeyId('ASIAAAAAAAAAAAAAAAAA')).toBe(false);
  });
});
