import { describe, expect, it } from 'vitest';
import { AirlockError } from '@airlock/errors';
import { parseRawQuery } from './parse-raw-query.js';

describe('parseRawQuery', () => {
  it('decodes percent-escapes in names and values', () => {
    expect({ ...parseRawQuery('prefix=a%20b%2Fc%C3%A9&start-after=x%3Dy%26z') }).toEqual({ prefix: 'a b/cé', 'start-after': 'x=y&z' });
  });

  it("keeps '+' as '+' because AWS clients send a space as %20", () => {
    expect(parseRawQuery('q=a+b%2Bc')['q']).toBe('a+b+c');
  });

  it('gathers a repeated name into an array in wire order', () => {
    expect(parseRawQuery('a=2&b=1&a=1&a=3')['a']).toEqual(['2', '1', '3']);
  });

  it('reads a name without = as an empty value and skips empty pairs', () => {
    expect({ ...parseRawQuery('uploads&&x=&y=1&') }).toEqual({ uploads: '', x: '', y: '1' });
    expect({ ...parseRawQuery('') }).toEqual({});
  });

  it('treats __proto__ and constructor as ordinary names', () => {
    const query = parseRawQuery('__proto__=x&constructor=y');
    expect(Object.keys(query).sort()).toEqual(['__proto__', 'constructor']);
    expect(query['__proto__']).toBe('x');
    expect(({} as Record<string, unknown>)['x']).toBeUndefined();
  });

  it('refuses malformed percent-encoding with InvalidRequest', () => {
    expect(() => parseRawQuery('a=%E0%A4%A')).toThrow(expect.objectContaining({ code: 'InvalidRequest' }) as AirlockError);
    expect(() => parseRawQuery('a=%')).toThrow(AirlockError);
  });
});
