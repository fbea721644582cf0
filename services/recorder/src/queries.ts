import type { KeyObject } from 'node:crypto';
import type { BlobStore } from '@airlock/blob';
import type { RecorderServiceService, SessionEvent } from '@airlock/contracts';
import { AirlockError } from '@airlock/errors';
import type { Logger } from '@airlock/logging';
import type { ServiceImplementation } from '@airlock/transport';
import { walkChain } from './chain-walk.js';
import { dedupeEvents } from './dedupe.js';
import { readIndex, readIndexHour } from './index-reader.js';
import { hourOf, hoursBetween, isValidSessionId } from './keys.js';
import { fromNdjson } from './ndjson.js';
import { decisionNames, matches, summarize, toRecordedSession } from './session-index.js';
import { verifySession } from './verify.js';

/** @default 100 sessions when a request names no limit */
const defaultLimit = 100;
const maxLimit = 1_000;
const dayMs = 86_400_000;
/** Hours one listing may read: a year. Longer ranges are exports, not listings. */
const maxListHours = 366 * 24;
const defaultPageSize = 1_000;
const maxPageSize = 10_000;

export interface QueryDependencies {
  blob: BlobStore;
  prefix: string;
  indexPrefix: string;
  logger: Logger;
  /** Public keys digests may be signed with, by key id. */
  trustedKeys?: Readonly<Record<string, KeyObject>>;
  now?: () => number;
}

export function createQueryHandlers(deps: QueryDependencies): ServiceImplementation<typeof RecorderServiceService> {
  const now = deps.now ?? Date.now;
  return {
    async listSessions(request) {
      const untilMs = request.untilMs || now();
      const sinceMs = request.sinceMs || untilMs - dayMs;
      if (sinceMs >= untilMs) throw new AirlockError('InvalidRequest', 'The time range is empty: since must be before until.');
      if (hoursBetween(sinceMs, untilMs).length > maxListHours) throw new AirlockError('InvalidRequest', 'List at most a year at a time; use an audit export for longer ranges.');
      if (request.decision && !(decisionNames as readonly string[]).includes(request.decision)) {
        throw new AirlockError('InvalidRequest', `A decision is one of ${decisionNames.join(', ')}; got "${request.decision}".`);
      }
      const entries = await readIndex(deps.blob, deps.indexPrefix, sinceMs, untilMs);
      const sessions = [...summarize(entries).values()]
        .filter((session) => matches(session, request))
        .sort((a, b) => b.lastAtMs - a.lastAtMs || a.sessionId.localeCompare(b.sessionId))
        .slice(0, Math.min(request.limit || defaultLimit, maxLimit));
      return { sessions: sessions.map(toRecordedSession) };
    },

    async getSession({ sessionId }) {
      assertSessionId(sessionId);
      const { keys } = await walkChain(deps.blob, deps.prefix, sessionId);
      if (keys.length === 0) throw new AirlockError('NotFound', `No recording of session ${sessionId}.`, { details: { sessionId } });
      const events: SessionEvent[] = [];
      // Sequential on purpose: keys are in chain order and the answer must be too.
      for (const key of keys) events.push(...(await readObject(deps, key, sessionId)));
      return { events: dedupeEvents(events) };
    },

    async verifySession({ sessionId }) {
      assertSessionId(sessionId);
      const report = await verifySession(deps.blob, deps.prefix, sessionId, deps.trustedKeys ?? {});
      if (report.objects === 0 && report.problems.length === 0) {
        throw new AirlockError('NotFound', `No recording of session ${sessionId}.`, { details: { sessionId } });
      }
      return report;
    },

    async exportEvents(request) {
      const untilMs = request.untilMs || now();
      if (!request.sinceMs || request.sinceMs >= untilMs) throw new AirlockError('InvalidRequest', 'An export needs a since time before its until time.');
      const pageSize = Math.min(request.pageSize || defaultPageSize, maxPageSize);
      const after = parsePageToken(request.pageToken);
      const events: SessionEvent[] = [];
      // A page ends after the object that fills it; the token names the last index entry read.
      for (const hourMs of hoursBetween(Math.max(request.sinceMs, after?.hourMs ?? 0), untilMs)) {
        const entries = await readIndexHour(deps.blob, deps.indexPrefix, hourMs);
        for (const { key, entry } of entries) {
          if (after && hourMs === after.hourMs && key <= after.key) continue;
          if (entry.lastAtMs < request.sinceMs || entry.firstAtMs >= untilMs) continue;
          // Each event is exported from the entry of its own hour, so an object spanning hours is not exported twice.
          const inRange = (event: SessionEvent) => hourOf(event.atMs) === hourMs && event.atMs >= request.sinceMs && event.atMs < untilMs;
          events.push(...(await readObject(deps, entry.objectKey, entry.sessionId)).filter(inRange));
          if (events.length >= pageSize) return { events, nextPageToken: `${hourMs}:${key}`, hourMs };
        }
      }
      return { events, nextPageToken: '', hourMs: hourOf(untilMs - 1) };
    },
  };
}

function assertSessionId(sessionId: string): void {
  if (!isValidSessionId(sessionId)) throw new AirlockError('InvalidRequest', 'A session id is letters, digits, "-" or "_".');
}

async function readObject(deps: QueryDependencies, key: string, sessionId: string): Promise<SessionEvent[]> {
  const body = await deps.blob.get(key);
  if (!body) return [];
  try {
    return fromNdjson(body);
  } catch (error) {
    deps.logger.error({ key, error: error instanceof Error ? error.message : String(error) }, 'a stored recording is unreadable');
    throw new AirlockError('Internal', `The recording of session ${sessionId} could not be read.`, { cause: error, details: { sessionId } });
  }
}

function parsePageToken(token: string): { hourMs: number; key: string } | undefined {
  if (!token) return undefined;
  const separator = token.indexOf(':');
  const hourMs = Number(token.slice(0, separator));
  if (separator <= 0 || !Number.isSafeInteger(hourMs)) throw new AirlockError('InvalidRequest', 'The page token is not one this recorder gave out.');
  return { hourMs, key: token.slice(separator + 1) };
}
