import { describe, expect, it } from 'vitest';
import type { ConsumedMessage } from '@airlock/bus';
import { SessionEvent, sessionEventsStream } from '@airlock/contracts';
import { splitBatch } from './batch.js';

function message(seq: number, data: Uint8Array, subject: string): ConsumedMessage {
  return { subject, data, headers: {}, seq, deliveryCount: 1, ack: async () => undefined, nak: () => undefined, term: () => undefined };
}

function eventMessage(seq: number, sessionId: string, eventId: string, subject = sessionEventsStream.subjectFor(sessionId)): ConsumedMessage {
  const bytes = SessionEvent.encode({ eventId, sessionId, atMs: seq, edgeId: 'edge-1', body: { $case: 'ended', value: { reason: 'done' } } }).finish();
  return message(seq, bytes, subject);
}

describe('splitBatch', () => {
  it('groups by session in stream order, each chunk named by its first sequence', () => {
    const { chunks, rejected } = splitBatch([eventMessage(4, 'b', 'b1'), eventMessage(3, 'a', 'a1'), eventMessage(5, 'a', 'a2'), eventMessage(7, 'b', 'b2')]);
    expect(rejected).toEqual([]);
    expect(chunks.map((chunk) => [chunk.sessionId, chunk.firstSeq, chunk.events.map((e) => e.eventId)])).toEqual([
      ['a', 3, ['a1', 'a2']],
      ['b', 4, ['b1', 'b2']],
    ]);
  });

  it('rejects bytes that are not a session event, a missing session id, and a subject of another session', () => {
    const garbage = message(1, new Uint8Array([0xff, 0xff, 0xff, 0xff]), 'airlock.sessions.a');
    const noSession = message(2, SessionEvent.encode({ eventId: 'x', sessionId: '', atMs: 0, edgeId: '', body: undefined }).finish(), 'airlock.sessions.a');
    const wrongSubject = eventMessage(3, 'a', 'a1', 'airlock.sessions.b');
    const { chunks, rejected } = splitBatch([garbage, noSession, wrongSubject, eventMessage(4, 'a', 'a2')]);
    expect(rejected.map((r) => r.message.seq)).toEqual([1, 2, 3]);
    expect(chunks.map((chunk) => chunk.events.map((e) => e.eventId))).toEqual([['a2']]);
  });
});
