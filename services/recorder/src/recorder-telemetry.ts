import { SpanKind, inSpan, linksFrom, metrics } from '@airlock/telemetry';
import type { SessionChunk } from './batch.js';

/**
 * Stores one session's chunk as a span linked to the calls that produced its events (their trace context came in
 * the messages' headers), and counts what was written and how far behind the calls it was written.
 */
export async function observeStore(chunk: SessionChunk, store: () => Promise<string | undefined>): Promise<string | undefined> {
  const key = await inSpan(
    'recorder store',
    { kind: SpanKind.CONSUMER, links: linksFrom(chunk.messages.map((message) => message.headers)), attributes: { 'airlock.events': chunk.events.length } },
    store,
  );
  if (key) {
    metrics.recorderEvents.inc(chunk.events.length);
    const newest = Math.max(...chunk.events.map((event) => event.atMs));
    if (newest > 0) metrics.recorderLag.set(Math.max(0, Date.now() - newest) / 1000);
  }
  return key;
}
