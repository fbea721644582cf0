import { Decision, type RecordedSession, type SessionEvent } from '@airlock/contracts';
import { hourOf } from './keys.js';

/**
 * The query index: one small JSON entry per recording object and UTC hour it has events in, under
 * `<indexPrefix><yyyy-mm-ddThh>/<sessionId>.<first seq>.json`. Listing sessions for a time range lists only the hours
 * in the range; nothing else in the bucket is read. An entry's key follows from its object's key, so writing it again
 * (a redelivered batch) replaces it rather than adding a second one.
 */
export interface IndexEntry {
  version: 1;
  sessionId: string;
  objectKey: string;
  hourStartMs: number;
  firstAtMs: number;
  lastAtMs: number;
  /** Events of the object in this hour. */
  events: number;
  /** Calls (CallRecorded events) of the object in this hour. */
  calls: number;
  subject: string;
  name: string;
  roleArn: string;
  /** Each IAM action seen, with the decisions its calls got ("allow", "deny", "approval", "none"). */
  actions: Record<string, string[]>;
}

export type DecisionName = 'allow' | 'deny' | 'approval' | 'none';

export const decisionNames: readonly DecisionName[] = ['allow', 'deny', 'approval', 'none'];

export function decisionName(decision: Decision | undefined): DecisionName {
  if (decision === Decision.DECISION_ALLOW) return 'allow';
  if (decision === Decision.DECISION_DENY) return 'deny';
  if (decision === Decision.DECISION_APPROVAL_REQUIRED) return 'approval';
  return 'none';
}

/** The entries for one stored object: one per UTC hour its events fall in. */
export function indexEntriesFor(sessionId: string, objectKey: string, events: readonly SessionEvent[]): IndexEntry[] {
  const byHour = new Map<number, IndexEntry>();
  for (const event of events) {
    const hourStartMs = hourOf(event.atMs);
    let entry = byHour.get(hourStartMs);
    if (!entry) {
      entry = { version: 1, sessionId, objectKey, hourStartMs, firstAtMs: event.atMs, lastAtMs: event.atMs, events: 0, calls: 0, subject: '', name: '', roleArn: '', actions: {} };
      byHour.set(hourStartMs, entry);
    }
    entry.events++;
    entry.firstAtMs = Math.min(entry.firstAtMs, event.atMs);
    entry.lastAtMs = Math.max(entry.lastAtMs, event.atMs);
    const body = event.body;
    if (!body || body.$case === 'ended') continue;
    const principal = body.value.principal;
    entry.subject ||= principal?.subject ?? '';
    entry.name ||= principal?.name ?? '';
    if (body.$case === 'started') {
      entry.roleArn ||= body.value.roleArn;
      continue;
    }
    const call = body.value.call;
    entry.roleArn ||= call?.roleArn ?? '';
    if (!call?.action) continue;
    // A requested event is published only for a call policy let through; its outcome follows as a call event.
    const decision = body.$case === 'call' ? decisionName(body.value.decision) : 'allow';
    if (body.$case === 'call') entry.calls++;
    const decisions = (entry.actions[call.action] ??= []);
    if (!decisions.includes(decision)) decisions.push(decision);
  }
  return [...byHour.values()];
}

export function parseIndexEntry(body: Uint8Array): IndexEntry | undefined {
  try {
    const entry = JSON.parse(new TextDecoder().decode(body)) as Partial<IndexEntry>;
    return entry.version === 1 && typeof entry.sessionId === 'string' && typeof entry.objectKey === 'string' ? (entry as IndexEntry) : undefined;
  } catch {
    return undefined;
  }
}

export interface SessionFilter {
  subject?: string;
  role?: string;
  operation?: string;
  decision?: string;
}

/** A session as its index entries describe it; entries are merged in any order. */
export interface SessionSummary {
  sessionId: string;
  objects: Set<string>;
  events: number;
  calls: number;
  subject: string;
  name: string;
  roleArn: string;
  firstAtMs: number;
  lastAtMs: number;
  actions: Map<string, Set<string>>;
}

export function summarize(entries: Iterable<IndexEntry>): Map<string, SessionSummary> {
  const sessions = new Map<string, SessionSummary>();
  for (const entry of entries) {
    let session = sessions.get(entry.sessionId);
    if (!session) {
      session = { sessionId: entry.sessionId, objects: new Set(), events: 0, calls: 0, subject: '', name: '', roleArn: '', firstAtMs: entry.firstAtMs, lastAtMs: entry.lastAtMs, actions: new Map() };
      sessions.set(entry.sessionId, session);
    }
    session.objects.add(entry.objectKey);
    session.events += entry.events;
    session.calls += entry.calls;
    session.subject ||= entry.subject;
    session.name ||= entry.name;
    session.roleArn ||= entry.roleArn;
    session.firstAtMs = Math.min(session.firstAtMs, entry.firstAtMs);
    session.lastAtMs = Math.max(session.lastAtMs, entry.lastAtMs);
    for (const [action, decisions] of Object.entries(entry.actions)) {
      const seen = session.actions.get(action) ?? new Set<string>();
      for (const decision of decisions) seen.add(decision);
      session.actions.set(action, seen);
    }
  }
  return sessions;
}

export function matches(session: SessionSummary, filter: SessionFilter): boolean {
  if (filter.subject) {
    const wanted = filter.subject.toLowerCase();
    if (session.subject.toLowerCase() !== wanted && session.name.toLowerCase() !== wanted) return false;
  }
  if (filter.role && session.roleArn !== filter.role && !session.roleArn.endsWith(`:role/${filter.role}`) && !session.roleArn.endsWith(`/${filter.role}`)) return false;
  if (!filter.operation && !filter.decision) return true;
  for (const [action, decisions] of session.actions) {
    if (filter.operation && !actionMatches(action, filter.operation)) continue;
    if (!filter.decision || decisions.has(filter.decision)) return true;
  }
  return false;
}

/** `s3:PutObject` matches itself (case-insensitively, as IAM does); `s3:*` matches every s3 action. */
function actionMatches(action: string, pattern: string): boolean {
  const [a, p] = [action.toLowerCase(), pattern.toLowerCase()];
  return p.endsWith(':*') ? a.startsWith(p.slice(0, -1)) : a === p;
}

export function toRecordedSession(session: SessionSummary): RecordedSession {
  const decisions = new Set<string>();
  for (const seen of session.actions.values()) for (const decision of seen) decisions.add(decision);
  return {
    sessionId: session.sessionId,
    objects: session.objects.size,
    events: session.events,
    subject: session.subject,
    name: session.name,
    roleArn: session.roleArn,
    firstAtMs: session.firstAtMs,
    lastAtMs: session.lastAtMs,
    calls: session.calls,
    operations: [...session.actions.keys()].sort(),
    decisions: decisionNames.filter((name) => decisions.has(name)),
  };
}
