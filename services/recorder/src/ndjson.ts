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
