import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { createFileBlobStore } from '@airlock/blob';

/** A recorded session event as the recorder writes it (canonical proto3 JSON: zero values and `false` left out). */
export interface RecordedEvent {
  sessionId?: string;
  call?: {
    principal?: { subject?: string; issuer?: string; groups?: string[] };
    call?: { action?: string; operation?: string; resources?: string[]; parameters?: Record<string, string> };
    approvalId?: string;
    decision?: string;
    reason?: string;
    errorCode?: string;
    upstreamStatus?: number;
    approval?: {
      id?: string;
      status?: string;
      call?: unknown;
      votes?: { voter?: { subject?: string; issuer?: string }; approve?: boolean; reason?: string }[];
    };
  };
}

/** Every event recorded so far by an Airlock whose recordings are files under `dataDir` (drivers.blob: file, the default). */
export async function readRecordedEvents(dataDir: string): Promise<RecordedEvent[]> {
  const recordings = await createFileBlobStore({ dir: join(dataDir, 'recordings') });
  const texts: string[] = [];
  try {
    for await (const { key } of recordings.list('sessions/')) texts.push(Buffer.from((await recordings.get(key)) ?? []).toString('utf8'));
  } finally {
    await recordings.close();
  }
  return texts.flatMap((text) => text.split('\n').filter((line) => line.trim() !== '').map((line) => JSON.parse(line) as RecordedEvent));
}

/** Reads until `done` holds (the recorder writes in batches), at most `attempts` times 200 ms; returns the last read. */
export async function waitForRecordedEvents(dataDir: string, done: (events: RecordedEvent[]) => boolean, attempts = 100): Promise<RecordedEvent[]> {
  let events: RecordedEvent[] = [];
  for (let attempt = 0; attempt < attempts; attempt++) {
    events = await readRecordedEvents(dataDir);
    if (done(events)) return events;
    await sleep(200);
  }
  return events;
}
