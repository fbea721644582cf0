import pMap from 'p-map';
import type { BlobStore } from '@airlock/blob';
import { hoursBetween, indexHourPrefix } from './keys.js';
import { parseIndexEntry, type IndexEntry } from './session-index.js';

/** Entries read at once; enough to hide blob store latency without flooding it. */
const readConcurrency = 16;

/** The index entries of one hour, in key order (by session, then by object), skipping unreadable ones. */
export async function readIndexHour(blob: BlobStore, indexPrefix: string, hourMs: number): Promise<{ key: string; entry: IndexEntry }[]> {
  const keys: string[] = [];
  for await (const { key } of blob.list(indexHourPrefix(indexPrefix, hourMs))) if (key.endsWith('.json')) keys.push(key);
  const entries = await pMap(keys, async (key) => {
    const body = await blob.get(key);
    const entry = body ? parseIndexEntry(body) : undefined;
    return entry ? { key, entry } : undefined;
  }, { concurrency: readConcurrency });
  return entries.filter((found): found is { key: string; entry: IndexEntry } => found !== undefined);
}

/** Every index entry with events in [sinceMs, untilMs): only the hours of the range are listed. */
export async function readIndex(blob: BlobStore, indexPrefix: string, sinceMs: number, untilMs: number): Promise<IndexEntry[]> {
  const entries: IndexEntry[] = [];
  for (const hourMs of hoursBetween(sinceMs, untilMs)) {
    for (const { entry } of await readIndexHour(blob, indexPrefix, hourMs)) {
      if (entry.lastAtMs >= sinceMs && entry.firstAtMs < untilMs) entries.push(entry);
    }
  }
  return entries;
}

