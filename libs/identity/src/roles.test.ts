import { describe, expect, it } from 'vitest';
import { AirlockError } from '@airlock/errors';
import { assertRoleAllowed, roleMatches } from './roles.js';

const AGENT = 'arn:aws:iam::123456789012:role/agent';

describe('roleMatches', () => {
  it('matches whole ARNs, with * standing for any run of characters', () => {
    expect(roleMatches(['*'], AGENT)).toBe(true);
    expect(roleMatches([AGENT], AGENT)).toBe(true);
    expect(roleMatches(['arn:aws:iam::123456789012:role/*'], AGENT)).toBe(true);
    expect(roleMatches(['arn:aws:iam::*:role/agent'], AGENT)).toBe(true);
    expect(roleMatches(['arn:aws:iam::123456789012:role/ci/*'], 'arn:aws:iam::123456789012:role/ci/deploy/prod')).toBe(true);
    expect(roleMatches(['arn:aws:iam::123456789012:role/*-readonly'], 'arn:aws:iam::123456789012:role/s3-readonly')).toBe(true);
    expect(roleMatches(['arn:aws:iam::123456789012:role/a**b'], 'arn:aws:iam::123456789012:role/ab')).toBe(true);
  });

  it('refuses prefixes, suffixes, other accounts, other case, and treats regex characters literally', () => {
    expect(roleMatches(['arn:aws:iam::123456789012:role/agen'], AGENT)).toBe(false);
    expect(roleMatches(['arn:aws:iam::123456789012:role/agent'], `${AGENT}-admin`)).toBe(false);
    expect(roleMatches(['rn:aws:iam::123456789012:role/agent'], AGENT)).toBe(false);
    expect(roleMatches(['arn:aws:iam::999999999999:role/*'], AGENT)).toBe(false);
    expect(roleMatches(['arn:aws:iam::123456789012:role/Agent'], AGENT)).toBe(false);
    expect(roleMatches(['arn:aws:iam::123456789012:role/a.ent'], AGENT)).toBe(false);
    expect(roleMatches(['arn:aws:iam::123456789012:role/ag+nt'], 'arn:aws:iam::123456789012:role/agggnt')).toBe(false);
    expect(roleMatches([], AGENT)).toBe(false);
  });

  it('answers patterns with many stars against long ARNs (no backtracking blow-up: a regex would not finish)', () => {
    expect(roleMatches([`arn:${'*a'.repeat(30)}*b`], `arn:${'a'.repeat(600)}`)).toBe(false);
    expect(roleMatches([`arn:${'*a'.repeat(30)}*`], `arn:${'a'.repeat(600)}`)).toBe(true);
  });
});

describe('assertRoleAllowed', () => {
  it('passes a role the issuer may use and refuses any other with AccessDenied', () => {
    const identity = { issuer: 'https://idp.example.com', roles: ['arn:aws:iam::123456789012:role/people-*'] };
    expect(() => assertRoleAllowed(identity, 'arn:aws:iam::123456789012:role/people-admin')).not.toThrow();
    let refusal: unknown;
    try {
      assertRoleAllowed(identity, AGENT);
    } catch (error) {
      refusal = error;
    }
    expect(refusal).toBeInstanceOf(AirlockError);
    expect(refusal).toMatchObject({ code: 'AccessDenied', message: `Not authorized to assume ${AGENT}: tokens from the identity provider https://idp.example.com may not use this role (identity.issuers[].roles).` });
    expect((refusal as Error).message).not.toContain('people-*');
  });
});
