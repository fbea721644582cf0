import { describe, expect, it } from 'vitest';
import { isValidSessionId, objectKeyFor, parseObjectKey, sessionPrefix } from './keys.js';

describe('recording keys', () => {
  it('pads the first sequence so key order is stream order', () => {
    expect(objectKeyFor('sessions/', 'abc123', 42)).toBe('sessions/abc123/00000000000000000042.ndjson');
    expect(objectKeyFor('s/', 'a', 9) < objectKeyFor('s/', 'a', 10)).toBe(true);
  });

  it('parses what it writes and nothing else', () => {
    expect(parseObjectKey('sessions/', objectKeyFor('sessions/', 'abc123', 42))).toEqual({ sessionId: 'abc123', firstSeq: 42 });
    expect(parseObjectKey('sessions/', 'sessions/abc123/notes.txt')).toBeNull();
    expect(parseObjectKey('sessions/', 'sessions/abc123/x/00000000000000000042.ndjson')).toBeNull();
    expect(parseObjectKey('sessions/', 'other/abc123/00000000000000000042.ndjson')).toBeNull();
  });

  it('accepts only session ids that are safe in a key and a subject', () => {
    expect(isValidSessionId('0f3a9c')).toBe(true);
    expect(isValidSessionId('MFRGGZDF-x_1')).toBe(true);
    for (const bad of ['', '../etc', 'a/b', 'a.b', 'a*', 'x'.repeat(129)]) expect(isValidSessionId(bad)).toBe(false);
  });

  it('ends a session folder with a slash so one id is never a prefix of another', () => {
    expect(sessionPrefix('sessions/', 'ab')).toBe('sessions/ab/');
  });
});
