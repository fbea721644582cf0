import { describe, expect, it } from 'vitest';
import type { SessionEvent } from '@airlock/contracts';
import { dedupeEvents } from './dedupe.js';

const event = (eventId: string): SessionEvent => ({ eventId, sessionId: 's1', atMs: 1, edgeId: 'edge', body: undefined });
const ids = (events: SessionEvent[]) => events.map((e) => e.eventId);

describe('dedupeEvents', () => {
  it('keeps the first copy of each event id', () => {
    expect(ids(dedupeEvents([event('1'), event('2'), event('2'), event('3'), event('1')]))).toEqual(['1', '2', '3']);
  });
});
