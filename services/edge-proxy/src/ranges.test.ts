import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { createCut, formatRange, parseContentRange, parseRange, resolveRange, widenRange } from './ranges.js';

describe('byte ranges', () => {
  it('reads the one byte range of a Range header, and nothing else', () => {
    expect(parseRange('bytes=0-99')).toEqual({ first: 0, last: 99 });
    expect(parseRange('Bytes = 5 - ')).toEqual({ first: 5 });
    expect(parseRange('bytes=-20')).toEqual({ suffix: 20 });
    for (const header of [undefined, '', 'bytes=0-1,5-9', 'items=0-9', 'bytes=9-5', 'bytes=-', 'bytes=a-b', `bytes=0-${'9'.repeat(16)}`]) {
      expect(parseRange(header), String(header)).toBeUndefined();
    }
  });

  it('widens a range on both sides, never before the first byte', () => {
    expect(formatRange(widenRange({ first: 100, last: 199 }, 30))).toBe('bytes=70-229');
    expect(formatRange(widenRange({ first: 10, last: 19 }, 30))).toBe('bytes=0-49');
    expect(formatRange(widenRange({ first: 10 }, 30))).toBe('bytes=0-');
    expect(formatRange(widenRange({ suffix: 10 }, 30))).toBe('bytes=-40');
  });

  it('resolves a range against the size of the object as RFC 9110 says', () => {
    expect(resolveRange({ first: 5, last: 1000 }, 100)).toEqual({ first: 5, last: 99, total: 100 });
    expect(resolveRange({ first: 99 }, 100)).toEqual({ first: 99, last: 99, total: 100 });
    expect(resolveRange({ suffix: 30 }, 100)).toEqual({ first: 70, last: 99, total: 100 });
    expect(resolveRange({ suffix: 300 }, 100)).toEqual({ first: 0, last: 99, total: 100 });
    expect(resolveRange({ first: 100 }, 100)).toBeUndefined();
    expect(resolveRange({ suffix: 0 }, 100)).toBeUndefined();
  });

  it('reads a Content-Range of a 206 answer', () => {
    expect(parseContentRange('bytes 0-99/1000')).toEqual({ first: 0, last: 99, total: 1000 });
    for (const header of [undefined, 'bytes */1000', 'bytes 0-99/*', 'bytes 5-4/10', 'bytes 0-10/10']) expect(parseContentRange(header)).toBeUndefined();
  });

  it('cuts the same bytes out of a stream however it is split', () => {
    const body = Buffer.from(Array.from({ length: 300 }, (_, i) => i % 251));
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 300 }),
        fc.integer({ min: 0, max: 300 }),
        fc.uniqueArray(fc.integer({ min: 1, max: 299 }), { maxLength: 10 }),
        (skip, take, cuts) => {
          const cut = createCut(skip, take);
          const pieces = [0, ...cuts.sort((a, b) => a - b)].map((from, i) => body.subarray(from, cuts[i] ?? body.length));
          expect(Buffer.concat(pieces.map(cut)).equals(body.subarray(skip, skip + take))).toBe(true);
        },
      ),
    );
  });
});
