import { AirlockError } from '@airlock/errors';
import type { VerifiedIdentity } from './oidc-types.js';

/**
 * Whether a role ARN matches one of the patterns. `*` matches any run of characters (including none, `/` and `:`);
 * every other character matches itself, case-sensitively, and the whole ARN must match.
 */
export function roleMatches(patterns: readonly string[], roleArn: string): boolean {
  return patterns.some((pattern) => globMatch(pattern, roleArn));
}

/**
 * Refuses, with AccessDenied, a role the identity's issuer may not use. The message names the issuer and the role but not
 * the configured patterns, which are the operator's business.
 */
export function assertRoleAllowed(identity: Pick<VerifiedIdentity, 'issuer' | 'roles'>, roleArn: string): void {
  if (roleMatches(identity.roles, roleArn)) return;
  throw new AirlockError(
    'AccessDenied',
    `Not authorized to assume ${roleArn}: tokens from the identity provider ${identity.issuer} may not use this role (identity.issuers[].roles).`,
  );
}

/** Glob match with `*` only, in O(pattern × text) at worst: no regular expression, so no catastrophic backtracking. */
function globMatch(pattern: string, text: string): boolean {
  let p = 0;
  let t = 0;
  let star = -1;
  let resume = 0;
  while (t < text.length) {
    if (p < pattern.length && pattern[p] !== '*' && pattern[p] === text[t]) {
      p += 1;
      t += 1;
    } else if (p < pattern.length && pattern[p] === '*') {
      star = p;
      resume = t;
      p += 1;
    } else if (star !== -1) {
      p = star + 1;
      resume += 1;
      t = resume;
    } else {
      return false;
    }
  }
  while (p < pattern.length && pattern[p] === '*') p += 1;
  return p === pattern.length;
}
