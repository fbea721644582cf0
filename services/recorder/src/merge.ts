import type { SessionEvent } from '@airlock/contracts';

/**
 * Merges a redelivered chunk into the object already stored under the same key. Both lists are in stream order
 * and start at the same message, so the events they share anchor the merge and events only one of them has keep
 * their place between anchors. Overwriting blindly could drop events that were stored and acked with the first
 * write when only some of its acks were lost.
 *
 * Events without an id cannot be matched; they are all kept, since a duplicate is better than a lost record.
 */
export function mergeEvents(stored: readonly SessionEvent[], incoming: readonly SessionEvent[]): SessionEvent[] {
  const storedKeys = stored.map((event, index) => identityOf(event, `stored:${index}`));
  const incomingKeys = incoming.map((event, index) => identityOf(event, `incoming:${index}`));
  const inIncoming = new Set(incomingKeys);
  const merged: SessionEvent[] = [];
  const seen = new Set<string>();
  const push = (event: SessionEvent, key: string) => {
    if (seen.has(key)) return;
    seen.add(key);
    merged.push(event);
  };
  let i = 0;
  let j = 0;
  while (i < stored.length && j < incoming.length) {
    if (storedKeys[i] === incomingKeys[j]) {
      push(incoming[j]!, incomingKeys[j]!);
      i++;
      j++;
    } else if (!inIncoming.has(storedKeys[i]!)) {
      push(stored[i]!, storedKeys[i]!);
      i++;
    } else {
      push(incoming[j]!, incomingKeys[j]!);
      j++;
    }
  }
  for (; i < stored.length; i++) push(stored[i]!, storedKeys[i]!);
  for (; j < incoming.length; j++) push(incoming[j]!, incomingKeys[j]!);
  return merged;
}

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

function identityOf(event: SessionEvent, fallback: string): string {
  return event.eventId ? `id:${event.eventId}` : fallback;
}
