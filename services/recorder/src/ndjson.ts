import { SessionEvent } from '@airlock/contracts';

/** One `SessionEvent.toJSON` object per line, newline-terminated, so objects concatenate and stream cleanly. */
export function toNdjson(events: readonly SessionEvent[]): string {
  return events.map((event) => `${JSON.stringify(SessionEvent.toJSON(event))}\n`).join('');
}

export function fromNdjson(body: Uint8Array | string): SessionEvent[] {
  const text = typeof body === 'string' ? body : new TextDecoder().decode(body);
  return text
    .split('\n')
    .filter((line) => line.trim() !== '')
    .map((line) => SessionEvent.fromJSON(JSON.parse(line)));
}

/** The event id of one stored line, read without decoding the whole event; undefined for a line without one. */
export function eventIdOf(line: string): string | undefined {
  if (line.trim() === '') return undefined;
  try {
    const parsed: unknown = JSON.parse(line);
    const eventId = (parsed as { eventId?: unknown } | null)?.eventId;
    return typeof eventId === 'string' && eventId !== '' ? eventId : undefined;
  } catch {
    return undefined;
  }
}
