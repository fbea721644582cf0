import { AirlockError } from '@airlock/errors';

/** STS's shortest AssumeRole lifetime. */
export const minDurationSeconds = 900;

export const timeBoundSid = 'AirlockNotAfter';

/**
 * How long and how far credentials reach.
 *
 * - The session policy is the one the request carries (policy's obligation for this call): credential vending does
 *   not invent scope, since it does not see the action or resource; an empty one means "the role's own permissions".
 * - `DurationSeconds` is the request's `max_duration_seconds` (or the configured lifetime when 0), never more than
 *   the configured lifetime and never less than STS's 900.
 * - When the wanted lifetime is shorter than STS allows, the session policy itself bounds the credentials in time
 *   with a `DateLessThan aws:CurrentTime` condition, and `notAfterMs` is their effective end (also for caching).
 */
export interface Scope {
  durationSeconds: number;
  policy?: string;
  /** Earlier end than STS's expiry, enforced by the session policy; absent when STS's expiry is the end. */
  notAfterMs?: number;
}

export function scopeOf(request: { sessionPolicy: string; maxDurationSeconds: number }, configuredSeconds: number, nowMs: number): Scope {
  const wanted = Math.min(request.maxDurationSeconds > 0 ? Math.floor(request.maxDurationSeconds) : configuredSeconds, configuredSeconds);
  const document = request.sessionPolicy ? parsePolicy(request.sessionPolicy) : undefined;
  if (wanted >= minDurationSeconds) {
    return { durationSeconds: wanted, ...(request.sessionPolicy ? { policy: request.sessionPolicy } : {}) };
  }
  const notAfterMs = Math.floor((nowMs + wanted * 1000) / 1000) * 1000;
  return { durationSeconds: minDurationSeconds, policy: JSON.stringify(withTimeBound(document, notAfterMs)), notAfterMs };
}

interface PolicyDocument {
  Version?: string;
  Statement: unknown;
  [key: string]: unknown;
}

/**
 * The policy limited to the time before `notAfterMs`. Without a policy: everything the role allows, until then.
 * With one: its statements plus a Deny of everything from then on, which holds whatever shape the statements have
 * (NotAction, existing conditions) and is the same `aws:CurrentTime` bound stated the other way round.
 */
export function withTimeBound(document: PolicyDocument | undefined, notAfterMs: number): PolicyDocument {
  const notAfter = iso(notAfterMs);
  if (!document) {
    return {
      Version: '2012-10-17',
      Statement: [{ Sid: timeBoundSid, Effect: 'Allow', Action: '*', Resource: '*', Condition: { DateLessThan: { 'aws:CurrentTime': notAfter } } }],
    };
  }
  const statements = Array.isArray(document.Statement) ? document.Statement : [document.Statement];
  return {
    ...document,
    Statement: [...statements, { Sid: timeBoundSid, Effect: 'Deny', Action: '*', Resource: '*', Condition: { DateGreaterThanEquals: { 'aws:CurrentTime': notAfter } } }],
  };
}

function parsePolicy(text: string): PolicyDocument {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw new AirlockError('InvalidRequest', 'The session policy of a credential request is not JSON.');
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed) || !('Statement' in parsed)) {
    throw new AirlockError('InvalidRequest', 'The session policy of a credential request must be an IAM policy document with a Statement.');
  }
  return parsed as PolicyDocument;
}

/** IAM's date format, to the second. */
function iso(ms: number): string {
  return new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');
}
