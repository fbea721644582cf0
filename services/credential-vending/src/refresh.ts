import type { Refreshable } from './cache.js';
import type { AssumedCredentials } from './sts.js';

/** Credentials as both caches keep them: with the instant after which callers get new ones. */
export interface CachedCredentials extends AssumedCredentials, Refreshable {}

/** Cached credentials are handed out until this long before they expire, so callers never get ones about to lapse. */
export const refreshAheadMs = 5 * 60_000;

/**
 * When credentials that live until `expirationMs` stop being handed out.
 *
 * - Normally `refreshAheadMs` before they expire, or halfway through a lifetime shorter than twice that, so short
 *   lifetimes are still served for a while instead of being replaced on every call.
 * - When they end at the request's bound (an approval window, a session end), not before that end: a new STS call
 *   could not give credentials that last longer, and refreshing ahead would cost one STS call per request until then.
 */
export function refreshAtFor(expirationMs: number, nowMs: number, atBound: boolean): number {
  if (atBound) return expirationMs;
  return expirationMs - Math.min(refreshAheadMs, Math.max(0, (expirationMs - nowMs) / 2));
}
