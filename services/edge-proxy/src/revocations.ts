import { AirlockError, toAirlockError } from '@airlock/errors';
import type { StateStore } from '@airlock/state';

export const revokedSessionKey = (sessionId: string): string => `session-revoked:${sessionId}`;

/**
 * Answers "is this session revoked?" from the shared state store, remembering each answer for a few seconds so that
 * the hot path costs one lookup per session per interval, and a revocation reaches every edge within that interval.
 */
export function createRevocationCheck(state: StateStore, options: { cacheMs?: number; now?: () => number } = {}) {
  const cacheMs = options.cacheMs ?? 5_000;
  const now = options.now ?? Date.now;
  const cache = new Map<string, { revoked: boolean; until: number }>();
  return async function assertNotRevoked(sessionId: string): Promise<void> {
    const cached = cache.get(sessionId);
    let revoked = cached && cached.until > now() ? cached.revoked : undefined;
    if (revoked === undefined) {
      try {
        revoked = (await state.get(revokedSessionKey(sessionId))) !== null;
      } catch (error) {
        throw toAirlockError(error, 'DependencyUnavailable', 'Airlock cannot check whether this session was revoked; the request was refused.');
      }
      if (cache.size > 100_000) cache.clear();
      cache.set(sessionId, { revoked, until: now() + cacheMs });
    }
    if (revoked) throw new AirlockError('ExpiredSession', 'This Airlock session was revoked; obtain new credentials.');
  };
}
