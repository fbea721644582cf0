import { AirlockError } from '@airlock/errors';

/** STS's shortest AssumeRole lifetime. */
export const minDurationSeconds = 900;

/** STS refuses session policies longer than this (IAM and STS quotas: "Session policy … 2,048 characters"). */
const sessionPolicyLimit = 2048;

export const timeBoundSid = 'AirlockNotAfter';

/**
 * How long and how far credentials reach.
 *
 * - The session policy is the one the request carries (policy's obligation for this call): credential vending does
 *   not invent scope, since it does not see the action or resource; an empty one means "the role's own permissions".
 * - `DurationSeconds` is the request's `max_duration_seconds` (or the configured lifetime when 0), never more than
 *   the configured lifetime, never past the request's `not_after_ms` (the approval window's or the Airlock session's
 *   end) and never less than STS's 900.
 * - When the credentials must end sooner than STS allows, the session policy itself bounds them in time with a
 *   `DateLessThan aws:CurrentTime` condition, and `notAfterMs` is their effective end (also for caching).
 */
export interface Scope {
  durationSeconds: number;
  policy?: string;
  /** Earlier end than STS's expiry, enforced by the session policy or by the request's bound; absent when STS's expiry is the end. */
  notAfterMs?: number;
  /**
   * The request's `not_after_ms` cut the lifetime short: credentials from a later STS call would end no later, so
   * cached ones are served until their very end instead of being refreshed ahead of it.
   */
  atBound: boolean;
}

export interface ScopeRequest {
  sessionPolicy: string;
  maxDurationSeconds: number;
  /** ms since the epoch; 0 for no bound. */
  notAfterMs: number;
}

export function scopeOf(request: ScopeRequest, configuredSeconds: number, nowMs: number): Scope {
  const wanted = Math.min(request.maxDurationSeconds > 0 ? Math.floor(request.maxDurationSeconds) : configuredSeconds, configuredSeconds);
  const document = request.sessionPolicy ? parsePolicy(request.sessionPolicy) : undefined;
  const bound = request.notAfterMs > 0 ? request.notAfterMs : undefined;
  // IAM compares aws:CurrentTime to the second: a bound is taken at the whole second before it.
  if (bound !== undefined && wholeSecond(bound) <= nowMs) {
    throw new AirlockError('AccessDenied', `Credentials were asked to end at ${iso(bound)}, which has passed: the approval's window or the Airlock session has ended.`);
  }
  const remainingSeconds = bound === undefined ? Number.POSITIVE_INFINITY : Math.floor((bound - nowMs) / 1000);
  const atBound = remainingSeconds <= wanted;
  const seconds = Math.min(wanted, remainingSeconds);
  if (seconds >= minDurationSeconds) {
    return {
      durationSeconds: seconds,
      ...(request.sessionPolicy ? { policy: request.sessionPolicy } : {}),
      ...(atBound && bound !== undefined ? { notAfterMs: bound } : {}),
      atBound,
    };
  }
  const notAfterMs = atBound && bound !== undefined ? wholeSecond(bound) : wholeSecond(nowMs + wanted * 1000);
  const policy = JSON.stringify(withTimeBound(document, notAfterMs));
  if (policy.length > sessionPolicyLimit) {
    // Refused here, closed: dropping the bound or the scope to make it fit would hand out more than was allowed.
    throw new AirlockError(
      'InvalidRequest',
      `The session policy with its time bound is ${policy.length} characters; STS accepts at most ${sessionPolicyLimit}. Scope the call to fewer resources.`,
    );
  }
  return { durationSeconds: minDurationSeconds, policy, notAfterMs, atBound };
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

const wholeSecond = (ms: number): number => Math.floor(ms / 1000) * 1000;

/** IAM's date format, to the second. */
function iso(ms: number): string {
  return new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');
}
