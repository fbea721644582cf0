import { AirlockError } from '@airlock/errors';
import type { SessionClaims } from '@airlock/identity';
import type { StateStore } from '@airlock/state';
import { revokedSessionKey, revokedSubjectKey, subjectRevocationCovers } from './state-keys.js';

export { revokedSessionKey, revokedSubjectKey } from './state-keys.js';

/** What the check needs to know about a session; all of it comes from the signed session token. */
export type SessionRef = Pick<SessionClaims, 'sessionId' | 'issuer' | 'subject' | 'issuedAt'>;

export interface RevocationCheck {
  /** Throws ExpiredSession (AWS `ExpiredToken`) for a revoked session, DependencyUnavailable when the store cannot answer. */
  assertNotRevoked(session: SessionRef): Promise<void>;
  /** Tells this edge's cache about a value it has just written, so that its own revocations apply here at once. */
  remember(key: string, value: string | null): void;
}

/** How long an answer is trusted: a revocation reaches every edge within about this long. */
export const defaultRevocationCacheMs = 2_000;
const maxCacheEntries = 100_000;

/**
 * Answers "is this session revoked?" from the shared state store: revoked by id (`session-revoked:<id>`) or by
 * principal (`subject-revoked:<issuer#subject>`, which covers sessions issued at or before its time). Each key's
 * answer is remembered for a couple of seconds, and concurrent misses for one key share a single lookup, so the hot
 * path costs at most one store read per session and one per principal per interval. When the store cannot answer,
 * the call is refused: nothing is cached then, so the next call asks again.
 */
export function createRevocationCheck(state: StateStore, options: { cacheMs?: number; now?: () => number } = {}): RevocationCheck {
  const cacheMs = options.cacheMs ?? defaultRevocationCacheMs;
  const now = options.now ?? Date.now;
  const cache = new Map<string, { value: string | null; until: number }>();
  const pending = new Map<string, Promise<string | null>>();

  const store = (key: string, value: string | null) => {
    if (cache.size >= maxCacheEntries) cache.clear();
    cache.set(key, { value, until: now() + cacheMs });
  };

  const lookup = (key: string): Promise<string | null> => {
    const hit = cache.get(key);
    if (hit && hit.until > now()) return Promise.resolve(hit.value);
    let inFlight = pending.get(key);
    if (!inFlight) {
      const started: Promise<string | null> = state.get(key).then(
        (value) => {
          // A value remembered while this read was in flight is newer than what the read saw.
          if (pending.get(key) === started) {
            pending.delete(key);
            store(key, value);
          }
          return value;
        },
        (error: unknown) => {
          if (pending.get(key) === started) pending.delete(key);
          throw error;
        },
      );
      inFlight = started;
      pending.set(key, inFlight);
    }
    return inFlight;
  };

  return {
    async assertNotRevoked(session) {
      let byId: string | null;
      let bySubject: string | null;
      try {
        [byId, bySubject] = await Promise.all([lookup(revokedSessionKey(session.sessionId)), lookup(revokedSubjectKey(session.issuer, session.subject))]);
      } catch (error) {
        // The store's own message may name its address; the client learns only that the check failed.
        throw new AirlockError('DependencyUnavailable', 'Airlock cannot check whether this session was revoked; the request was refused. Retry later.', { cause: error });
      }
      if (byId !== null || subjectRevocationCovers(bySubject, session.issuedAt)) {
        throw new AirlockError('ExpiredSession', 'This Airlock session was revoked; obtain new credentials.');
      }
    },
    remember(key, value) {
      pending.delete(key);
      store(key, value);
    },
  };
}
