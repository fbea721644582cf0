import { createHash } from 'node:crypto';

/**
 * Names and tags STS accepts, derived from the caller. STS rejects anything outside its character sets, so a subject
 * is cleaned; when cleaning or truncating loses information, a short hash of the original keeps two different
 * subjects from ever sharing a name in CloudTrail.
 * AWS: https://docs.aws.amazon.com/STS/latest/APIReference/API_AssumeRole.html
 */

// RoleSessionName and SourceIdentity: [\w+=,.@-]{2,64}.
const nameDisallowed = /[^\w+=,.@-]/g;
const maxNameLength = 64;
// Session tag values: [\p{L}\p{Z}\p{N}_.:/=+\-@]{0,256}.
const tagValueDisallowed = /[^\p{L}\p{Z}\p{N}_.:/=+\-@]/gu;
const maxTagValueLength = 256;

export const roleSessionNamePrefix = 'airlock-';

export function roleSessionNameFor(subject: string): string {
  return boundedName(subject, roleSessionNamePrefix);
}

export function sourceIdentityFor(subject: string): string {
  return boundedName(subject, '');
}

export function tagValueFor(value: string): string {
  return Array.from(value.replace(tagValueDisallowed, '_')).slice(0, maxTagValueLength).join('');
}

function boundedName(subject: string, prefix: string): string {
  const cleaned = subject.replace(nameDisallowed, '-');
  const length = prefix.length + cleaned.length;
  if (cleaned === subject && length >= 2 && length <= maxNameLength) return prefix + cleaned;
  const suffix = `.${createHash('sha256').update(subject).digest('hex').slice(0, 12)}`;
  return prefix + cleaned.slice(0, maxNameLength - prefix.length - suffix.length) + suffix;
}
