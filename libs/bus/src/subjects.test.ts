import { describe, expect, it } from 'vitest';
import { patternsOverlap, patternWithin, subjectMatches, validatePattern, validateSubject } from './subjects.js';

describe('subjectMatches', () => {
  it.each([
    ['a.b', 'a.b', true],
    ['a.b', 'a.c', false],
    ['a.*', 'a.b', true],
    ['a.*', 'a.b.c', false],
    ['a.>', 'a.b.c', true],
    ['a.>', 'a', false],
    ['>', 'a', true],
    ['*.b.>', 'x.b.y', true],
    ['*.b.>', 'x.c.y', false],
    ['a.b', 'a', false],
  ])('%s ~ %s = %s', (pattern, subject, expected) => {
    expect(subjectMatches(pattern, subject)).toBe(expected);
  });
});

describe('patternsOverlap', () => {
  it.each([
    ['a.>', 'a.b', true],
    ['a.*', 'a.b.c', false],
    ['a.*.c', 'a.b.*', true],
    ['a.>', 'b.>', false],
    ['>', 'x', true],
    ['a', 'a.>', false],
  ])('%s / %s = %s', (a, b, expected) => {
    expect(patternsOverlap(a, b)).toBe(expected);
    expect(patternsOverlap(b, a)).toBe(expected);
  });
});

describe('patternWithin', () => {
  it.each([
    ['a.b', 'a.>', true],
    ['a.>', 'a.>', true],
    ['a.*', 'a.>', true],
    ['a.>', 'a.*', false],
    ['a', 'a.>', false],
    ['a.b', 'a.*', true],
    ['a.*', 'a.b', false],
    ['x.y', 'x.y', true],
  ])('%s within %s = %s', (inner, outer, expected) => {
    expect(patternWithin(inner, outer)).toBe(expected);
  });
});

describe('validation', () => {
  it('refuses wildcards in published subjects and malformed patterns', () => {
    expect(() => validateSubject('a.*')).toThrow(/wildcards/);
    expect(() => validateSubject('a..b')).toThrow(/Invalid subject/);
    expect(() => validateSubject('a b')).toThrow(/Invalid subject/);
    expect(() => validatePattern('a.>.b')).toThrow(/last token/);
    expect(() => validatePattern('a.*.>')).not.toThrow();
  });
});
