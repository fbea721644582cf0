import { AirlockError } from '@airlock/errors';
import type { SessionClaims } from '@airlock/identity';
import type { StateStore } from '@airlock/state';
import pMap from 'p-map';
import type { EdgeDependencies } from './dependencies.js';
import {
  principalKey,
  revokedSessionKey,
  revokedSubjectKey,
  sessionRecordKey,
  sessionRecordPrefix,
  subjectIndexKey,
  subjectIndexPrefix,
  subjectRevocationCovers,
} from './state-keys.js';

/** What the registry keeps about an issued session: who, as what, when. Never a secret. */
export interface SessionRecord {
  sessionId: string;
  subject: string;
  issuer: string;
  name: string | null;
  groups: string[];
  roleArn: string;
  roleSessionName: string;
  /** ISO 8601. */
  issuedAt: string;
  /** ISO 8601. */
  expiresAt: string;
  /** The edge that issued it. */
  edgeId: string;
}

export interface SessionView extends SessionRecord {
  revoked: boolean;
}

/** A revocation key this registry wrote, for the local revocation cache. */
export interface WrittenKey {
  key: string;
  value: string;
}

export interface SessionRegistry {
  /** Stores the record of a session just issued, until it expires. Fails (DependencyUnavailable) when the store does. */
  record(claims: SessionClaims): Promise<void>;
  /** The record of a live session, or undefined. */
  get(sessionId: string): Promise<SessionRecord | undefined>;
  /** Live sessions, oldest first, optionally of one subject and/or issuer, each with whether it is revoked. */
  list(filter?: { subject?: string | undefined; issuer?: string | undefined }): Promise<SessionView[]>;
  /** Revokes one session until it expires. */
  revokeSession(record: SessionRecord): Promise<WrittenKey>;
  /** Revokes every session of a principal issued until now; answers the live ones that this revoked. */
  revokeSubject(issuer: string, subject: string): Promise<{ written: WrittenKey; sessionIds: string[] }>;
}

export interface SessionRegistryOptions {
  edgeId: string;
  /** The longest session any edge issues: how long a subject revocation must be kept. */
  maxSessionSeconds: number;
  now: () => Date;
}

/**
 * Revocation keys outlive what they revoke by this much, so that an edge whose clock runs behind still finds the key
 * for as long as it would accept the session.
 */
const clockMarginMs = 60_000;
/** Records read at once while listing. */
const readConcurrency = 32;
const maxRecordLength = 64 * 1024;

/**
 * The registry of issued sessions in the shared state store. Session credentials are self-contained (a signed token),
 * so the registry is not needed to accept a call; it exists so that people can see and revoke sessions.
 *
 * Keys (see state-keys.ts): `session:<id>` holds the record, `session-by-subject:<issuer#subject>:<id>` indexes it
 * by principal; both expire with the session. `session-revoked:<id>` and `subject-revoked:<issuer#subject>` hold
 * revocations, read by the edge on every call (revocations.ts).
 */
export function createSessionRegistry(state: StateStore, options: SessionRegistryOptions): SessionRegistry {
  const { now } = options;

  const get = async (sessionId: string): Promise<SessionRecord | undefined> => {
    const record = parseRecord(await state.get(sessionRecordKey(sessionId)));
    return record && record.sessionId === sessionId && Date.parse(record.expiresAt) > now().getTime() ? record : undefined;
  };

  const withRevocations = async (records: SessionRecord[]): Promise<SessionView[]> => {
    const principals = [...new Map(records.map((record) => [principalKey(record.issuer, record.subject), record])).entries()];
    const [byId, bySubjectValues] = await Promise.all([
      pMap(records, (record) => state.get(revokedSessionKey(record.sessionId)), { concurrency: readConcurrency }),
      pMap(principals, ([, record]) => state.get(revokedSubjectKey(record.issuer, record.subject)), { concurrency: readConcurrency }),
    ]);
    const bySubject = new Map(principals.map(([key], index) => [key, bySubjectValues[index] ?? null]));
    return records.map((record, index) => ({
      ...record,
      revoked: byId[index] !== null || subjectRevocationCovers(bySubject.get(principalKey(record.issuer, record.subject)) ?? null, new Date(record.issuedAt)),
    }));
  };

  const list = async (filter: { subject?: string | undefined; issuer?: string | undefined }): Promise<SessionView[]> => {
    const { subject, issuer } = filter;
    const ids: string[] = [];
    if (subject !== undefined && issuer !== undefined) {
      const prefix = subjectIndexPrefix(issuer, subject);
      for await (const key of state.scan(prefix)) ids.push(key.slice(prefix.length));
    } else {
      for await (const key of state.scan(sessionRecordPrefix)) ids.push(key.slice(sessionRecordPrefix.length));
    }
    const records = (await pMap(ids, get, { concurrency: readConcurrency })).filter(
      (record): record is SessionRecord =>
        record !== undefined && (subject === undefined || record.subject === subject) && (issuer === undefined || record.issuer === issuer),
    );
    records.sort((a, b) => a.issuedAt.localeCompare(b.issuedAt) || a.sessionId.localeCompare(b.sessionId));
    return withRevocations(records);
  };

  return {
    async record(claims) {
      const record: SessionRecord = {
        sessionId: claims.sessionId,
        subject: claims.subject,
        issuer: claims.issuer,
        name: claims.name ?? null,
        groups: [...claims.groups],
        roleArn: claims.roleArn,
        roleSessionName: claims.roleSessionName,
        issuedAt: claims.issuedAt.toISOString(),
        expiresAt: claims.expiresAt.toISOString(),
        edgeId: options.edgeId,
      };
      const ttlMs = Math.max(1_000, claims.expiresAt.getTime() - now().getTime());
      try {
        await Promise.all([
          state.set(sessionRecordKey(claims.sessionId), JSON.stringify(record), { ttlMs }),
          state.set(subjectIndexKey(claims.issuer, claims.subject, claims.sessionId), record.expiresAt, { ttlMs }),
        ]);
      } catch (error) {
        // A session nobody could list or revoke by id is not handed out.
        throw new AirlockError('DependencyUnavailable', 'Airlock cannot record the new session; the request was refused. Retry later.', { cause: error });
      }
    },

    get: (sessionId) => guarded(() => get(sessionId)),

    list: (filter = {}) => guarded(() => list(filter)),

    revokeSession(record) {
      return guarded(async () => {
        const written = { key: revokedSessionKey(record.sessionId), value: String(now().getTime()) };
        const ttlMs = Math.max(1_000, Date.parse(record.expiresAt) - now().getTime() + clockMarginMs);
        await state.set(written.key, written.value, { ttlMs });
        return written;
      });
    },

    revokeSubject(issuer, subject) {
      return guarded(async () => {
        const key = revokedSubjectKey(issuer, subject);
        const at = now().getTime();
        const ttlMs = options.maxSessionSeconds * 1000 + clockMarginMs;
        // A later revocation never lowers the bar set by an earlier one (edges' clocks may differ a little).
        let value: string | undefined;
        for (let attempt = 0; attempt < 5 && value === undefined; attempt++) {
          const current = await state.get(key);
          const currentMs = current === null ? Number.NaN : Number(current);
          if (current !== null && Number.isFinite(currentMs) && currentMs >= at) value = current;
          else if (await state.compareAndSet(key, current, String(at), { ttlMs })) value = String(at);
        }
        if (value === undefined) {
          value = String(at);
          await state.set(key, value, { ttlMs });
        }
        const revokedAt = Number(value);
        const live = await list({ issuer, subject });
        return { written: { key, value }, sessionIds: live.filter((session) => Date.parse(session.issuedAt) <= revokedAt).map((session) => session.sessionId) };
      });
    },
  };
}

/** Records a session the STS facade has just issued. */
export function recordSession(deps: EdgeDependencies, claims: SessionClaims): Promise<void> {
  return createSessionRegistry(deps.state, { edgeId: deps.settings.edgeId, maxSessionSeconds: deps.settings.maxSessionSeconds, now: deps.now }).record(claims);
}

async function guarded<T>(operation: () => Promise<T>): Promise<T> {
  try {
    return await operation();
  } catch (error) {
    throw new AirlockError('DependencyUnavailable', 'The session registry is unavailable; retry later.', { cause: error });
  }
}

function parseRecord(raw: string | null): SessionRecord | undefined {
  if (raw === null || raw.length > maxRecordLength) return undefined;
  let value: unknown;
  try {
    value = JSON.parse(raw);
  } catch {
    return undefined;
  }
  if (typeof value !== 'object' || value === null) return undefined;
  const record = value as Record<string, unknown>;
  const strings = ['sessionId', 'subject', 'issuer', 'roleArn', 'roleSessionName', 'issuedAt', 'expiresAt', 'edgeId'] as const;
  if (!strings.every((field) => typeof record[field] === 'string')) return undefined;
  if (!(record.name === null || typeof record.name === 'string')) return undefined;
  if (!Array.isArray(record.groups) || !record.groups.every((group) => typeof group === 'string')) return undefined;
  if (Number.isNaN(Date.parse(record.issuedAt as string)) || Number.isNaN(Date.parse(record.expiresAt as string))) return undefined;
  return {
    sessionId: record.sessionId as string,
    subject: record.subject as string,
    issuer: record.issuer as string,
    name: record.name,
    groups: [...(record.groups as string[])],
    roleArn: record.roleArn as string,
    roleSessionName: record.roleSessionName as string,
    issuedAt: record.issuedAt as string,
    expiresAt: record.expiresAt as string,
    edgeId: record.edgeId as string,
  };
}

