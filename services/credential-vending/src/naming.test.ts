import { describe, expect, it } from 'vitest';
import { roleSessionNameFor, sourceIdentityFor, tagValueFor } from './naming.js';

const stsName = /^[\w+=,.@-]{2,64}$/;

describe('roleSessionNameFor', () => {
  it('prefixes a clean subject and keeps it readable', () => {
    expect(roleSessionNameFor('alice@example.com')).toBe('airlock-alice@example.com');
  });

  it('cleans characters STS rejects and tells lossy names apart by a hash', () => {
    const a = roleSessionNameFor('auth0|alice/x');
    const b = roleSessionNameFor('auth0 alice x');
    expect(a).toMatch(stsName);
    expect(a.startsWith('airlock-auth0-alice-x.')).toBe(true);
    expect(b).toMatch(stsName);
    expect(a).not.toBe(b);
  });

  it('truncates long subjects to 64 characters, still distinct', () => {
    const long = 'x'.repeat(200);
    const name = roleSessionNameFor(long);
    expect(name).toMatch(stsName);
    expect(name).toHaveLength(64);
    expect(roleSessionNameFor(`${long}y`)).not.toBe(name);
  });
});

describe('sourceIdentityFor', () => {
  it('is the subject itself when STS accepts it', () => {
    expect(sourceIdentityFor('alice')).toBe('alice');
  });

  it('meets the 2-character minimum and the character set', () => {
    expect(sourceIdentityFor('a')).toMatch(stsName);
    expect(sourceIdentityFor('ünïcode:subject')).toMatch(stsName);
    expect(sourceIdentityFor('z'.repeat(100))).toMatch(stsName);
  });
});

describe('tagValueFor', () => {
  it('keeps letters, digits and the punctuation STS allows, replacing the rest', () => {
    expect(tagValueFor('Ünïcode user:1/a=b+c-d@e')).toBe('Ünïcode user:1/a=b+c-d@e');
    expect(tagValueFor('a|b"c')).toBe('a_b_c');
  });

  it('caps values at 256 characters', () => {
    expect(Array.from(tagValueFor('é'.repeat(300)))).toHaveLength(256);
  });
});
