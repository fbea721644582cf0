import type { KeyObject } from 'node:crypto';
import type { BlobStore } from '@airlock/blob';
import type { RecorderServiceService, RecordedSession, SessionEvent } from '@airlock/contracts';
import { AirlockError } from '@airlock/errors';
import type { Logger } from '@airlock/logging';
import type { ServiceImplementation } from '@airlock/transport';
import { isValidSessionId, parseObjectKey, sessionPrefix } from './keys.js';
import { dedupeEvents } from './merge.js';
import { fromNdjson } from './ndjson.js';
import { verifySession } from './verify.js';

/** @default 100 sessions when a request names no limit */
const defaultLimit = 100;
const maxLimit = 1_000;
/** Objects read at once when counting events; enough to hide blob store latency without flooding it. */
const readConcurrency = 8;

export interface QueryDependencies {
  blob: BlobStore;
  prefix: string;
  logger: Logger;
  /** Public keys digests may be signed with, by key id. */
  trustedKeys?: Readonly<Record<string, KeyObject>>;
}

export function createQueryHandlers(deps: QueryDependencies): ServiceImplementation<typeof RecorderServiceService> {
  return {
    async listSessions({ limit }) {
      const wanted = Math.min(limit || defaultLimit, maxLimit);
      // Listing is in key order, so a session's objects come together and the listing can stop at the limit.
      const keysBySession = new Map<string, string[]>();
      for await (const { key } of deps.blob.list(deps.prefix)) {
        const parsed = parseObjectKey(deps.prefix, key);
        if (!parsed) continue;
        let keys = keysBySession.get(parsed.sessionId);
        if (!keys) {
          if (keysBySession.size >= wanted) break;
          keys = [];
          keysBySession.set(parsed.sessionId, keys);
        }
        keys.push(key);
      }
      const sessionIds = [...keysBySession.keys()];
      const sessions = await mapWithLimit(sessionIds, readConcurrency, async (sessionId): Promise<RecordedSession> => {
        const keys = keysBySession.get(sessionId) ?? [];
        return { sessionId, objects: keys.length, events: await countEvents(deps.blob, keys) };
      });
      return { sessions };
    },

    async getSession({ sessionId }) {
      if (!isValidSessionId(sessionId)) throw new AirlockError('InvalidRequest', 'A session id is letters, digits, "-" or "_".');
      const keys = await keysOf(deps.blob, deps.prefix, sessionId);
      if (keys.length === 0) throw new AirlockError('NotFound', `No recording of session ${sessionId}.`, { details: { sessionId } });
      const events: SessionEvent[] = [];
      // Sequential on purpose: keys are in stream order and the answer must be too.
      for (const key of keys) {
        const body = await deps.blob.get(key);
        if (!body) continue;
        try {
          events.push(...fromNdjson(body));
        } catch (error) {
          deps.logger.error({ key, error: error instanceof Error ? error.message : String(error) }, 'a stored recording is unreadable');
          throw new AirlockError('Internal', `The recording of session ${sessionId} could not be read.`, { cause: error, details: { sessionId } });
        }
      }
      return { events: dedupeEvents(events) };
    },

    async verifySession({ sessionId }) {
      if (!isValidSessionId(sessionId)) throw new AirlockError('InvalidRequest', 'A session id is letters, digits, "-" or "_".');
      const report = await verifySession(deps.blob, deps.prefix, sessionId, deps.trustedKeys ?? {});
      if (report.objects === 0 && report.problems.length === 0) {
        throw new AirlockError('NotFound', `No recording of session ${sessionId}.`, { details: { sessionId } });
      }
      return report;
    },
  };
}

/** A session's object keys in stream order (the zero-padded sequence sorts lexicographically). */
async function keysOf(blob: BlobStore, prefix: string, sessionId: string): Promise<string[]> {
  const keys: string[] = [];
  for await (const { key } of blob.list(sessionPrefix(prefix, sessionId))) {
    if (parseObjectKey(prefix, key)?.sessionId === sessionId) keys.push(key);
  }
  return keys.sort();
}

/**
 * Distinct events across a session's objects. Counted from each line's event id without decoding whole events,
 * so one damaged line costs one count, not the listing.
 */
async function countEvents(blob: BlobStore, keys: readonly string[]): Promise<number> {
  const ids = new Set<string>();
  let withoutId = 0;
  const bodies = await mapWithLimit(keys, readConcurrency, (key) => blob.get(key));
  for (const body of bodies) {
    if (!body) continue;
    for (const line of new TextDecoder().decode(body).split('\n')) {
      if (line.trim() === '') continue;
      const eventId = eventIdOf(line);
      if (eventId) ids.add(eventId);
      else withoutId++;
    }
  }
  return ids.size + withoutId;
}

function eventIdOf(line: string): string | undefined {
  try {
    const parsed: unknown = JSON.parse(line);
    const eventId = (parsed as { eventId?: unknown } | null)?.eventId;
    return typeof eventId === 'string' && eventId !== '' ? eventId : undefined;
  } catch {
    return undefined;
  }
}

async function mapWithLimit<T, R>(items: readonly T[], limit: number, work: (item: T) => Promise<R>): Promise<R[]> {
  const results = new Array<R>(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const index = next++;
      results[index] = await work(items[index]!);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return results;
}
