import type { SessionEvent } from '@airlock/contracts';

/** Drops repeated events (same id) and keeps the first; used when reading a session back. */
export function dedupeEvents(events: readonly SessionEvent[]): SessionEvent[] {
  const seen = new Set<string>();
  return events.filter((event) => {
    if (!event.eventId) return true;
    if (seen.has(event.eventId)) return false;
    seen.add(event.eventId);
    return true;
  });
}
