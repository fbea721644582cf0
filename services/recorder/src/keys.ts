/**
 * Where recordings live in the blob store: `<prefix><sessionId>/<first stream seq, 20 digits>.ndjson`.
 * The zero-padded sequence makes lexicographic key order equal stream order, and makes the key of a batch stable,
 * so a redelivered batch overwrites its object instead of adding a second copy.
 */

// Session ids are hex or base32 (see sessionEventsStream); anything else must never become part of a key.
const sessionIdPattern = /^[A-Za-z0-9_-]{1,128}$/;
const objectNamePattern = /^(\d{20})\.ndjson$/;

export function isValidSessionId(sessionId: string): boolean {
  return sessionIdPattern.test(sessionId);
}

/** The folder of one session; the trailing slash keeps session "ab" from matching "abc". */
export function sessionPrefix(prefix: string, sessionId: string): string {
  return `${prefix}${sessionId}/`;
}

export function objectKeyFor(prefix: string, sessionId: string, firstSeq: number): string {
  return `${sessionPrefix(prefix, sessionId)}${String(firstSeq).padStart(20, '0')}.ndjson`;
}

/** The session and first sequence of a recording's key; null for anything else found under the prefix. */
export function parseObjectKey(prefix: string, key: string): { sessionId: string; firstSeq: number } | null {
  if (!key.startsWith(prefix)) return null;
  const [sessionId, name, ...rest] = key.slice(prefix.length).split('/');
  if (rest.length > 0 || !sessionId || !name || !isValidSessionId(sessionId)) return null;
  const match = objectNamePattern.exec(name);
  return match?.[1] ? { sessionId, firstSeq: Number(match[1]) } : null;
}

/** The stream sequence an object's key starts with. */
export function keySeqOf(key: string): number {
  const match = /(\d{20})\.ndjson$/.exec(key);
  return match?.[1] ? Number(match[1]) : 0;
}

/** Where the end of a session's chain is kept, so that continuing it needs one read and no listing. */
export function chainHeadKeyFor(prefix: string, sessionId: string): string {
  return `${sessionPrefix(prefix, sessionId)}head.json`;
}

const hourMs = 3_600_000;

/** The start of the UTC hour `atMs` falls in. */
export function hourOf(atMs: number): number {
  return Math.floor(atMs / hourMs) * hourMs;
}

/** The index partition of one UTC hour: `<indexPrefix><yyyy-mm-ddThh>/`, so listing an hour reads only that hour. */
export function indexHourPrefix(indexPrefix: string, hourStartMs: number): string {
  return `${indexPrefix}${new Date(hourStartMs).toISOString().slice(0, 13)}/`;
}

/** One index entry per recording object and hour it has events in; a rewrite of the same object lands on the same key. */
export function indexEntryKeyFor(indexPrefix: string, hourStartMs: number, objectKey: string, sessionId: string): string {
  return `${indexHourPrefix(indexPrefix, hourStartMs)}${sessionId}.${String(keySeqOf(objectKey)).padStart(20, '0')}.json`;
}

/** The hours from the one `sinceMs` falls in to the one just before `untilMs`, oldest first. */
export function hoursBetween(sinceMs: number, untilMs: number): number[] {
  const hours: number[] = [];
  for (let hour = hourOf(sinceMs); hour < untilMs; hour += hourMs) hours.push(hour);
  return hours;
}
