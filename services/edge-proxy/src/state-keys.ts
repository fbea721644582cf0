/**
 * The edge's keys in the shared state store (embedded or Redis). A principal is named `<issuer>#<subject>` with both
 * parts percent-encoded, so that a ':' or '#' inside an issuer URL or a subject can never make two principals share a
 * key, nor one principal's index prefix cover another's.
 */
export const principalKey = (issuer: string, subject: string): string => `${encodeURIComponent(issuer)}#${encodeURIComponent(subject)}`;

/** The session record (JSON), kept until the session expires. */
export const sessionRecordPrefix = 'session:';
export const sessionRecordKey = (sessionId: string): string => `${sessionRecordPrefix}${sessionId}`;

/** One key per live session of a principal, so that listing a principal's sessions scans only theirs. */
export const subjectIndexPrefix = (issuer: string, subject: string): string => `session-by-subject:${principalKey(issuer, subject)}:`;
export const subjectIndexKey = (issuer: string, subject: string, sessionId: string): string => `${subjectIndexPrefix(issuer, subject)}${sessionId}`;

/** Present (value: revocation time in ms) while a revoked session could still be used. */
export const revokedSessionKey = (sessionId: string): string => `session-revoked:${sessionId}`;

/** Revocation time in ms since the epoch: every session of the principal issued at or before it is revoked. */
export const revokedSubjectKey = (issuer: string, subject: string): string => `subject-revoked:${principalKey(issuer, subject)}`;

/**
 * Whether a `subject-revoked` value covers a session issued at `issuedAt`. Session times are whole seconds, so a
 * session issued in the same second as the revocation, even just after it, counts as revoked. A value that is not a
 * number cannot be judged and revokes (fail closed).
 */
export function subjectRevocationCovers(value: string | null, issuedAt: Date): boolean {
  if (value === null) return false;
  const revokedAtMs = Number(value);
  return !Number.isFinite(revokedAtMs) || issuedAt.getTime() <= revokedAtMs;
}
