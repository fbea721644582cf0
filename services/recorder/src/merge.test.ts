import { describe, expect, it } from 'vitest';
import type { SessionEvent } from '@airlock/contracts';
import { dedupeEvents, mergeEvents } from './merge.js';

const event = (eventId: string): SessionEvent => ({ eventId, sessionId: 's1', atMs: 1, edgeId: 'edge', body: undefined });
const ids = (events: SessionEvent[]) => events.map((e) => e.eventId);

describe('mergeEvents', () => {
  it('keeps stored events a smaller redelivery lacks', () => {
    expect(ids(mergeEvents([event('1'), event('2'), event('3')], [event('1')]))).toEqual(['1', '2', '3']);
  });

  it('adds what a larger redelivery brings, in order', () => {
    expect(ids(mergeEvents([event('1'), event('2')], [event('1'), event('2'), event('4'), event('5')]))).toEqual(['1', '2', '4', '5']);
  });

  it('keeps each side\'s own events between shared anchors', () => {
    expect(ids(mergeEvents([event('1'), event('2'), event('5')], [event('1'), event('3'), event('5'), event('6')]))).toEqual([
      '1',
      '2',
      '3',
      '5',
      '6',
    ]);
  });

  it('is a plain write when nothing was stored', () => {
    expect(ids(mergeEvents([], [event('1'), event('2')]))).toEqual(['1', '2']);
  });

  it('never drops events without an id', () => {
    expect(mergeEvents([event(''), event('a')], [event(''), event('a')])).toHaveLength(3);
  });
});

describe('dedupeEvents', () => {
  it('keeps the first copy of each event id', () => {
    expect(ids(dedupeEvents([event('1'), event('2'), event('2'), event('3'), event('1')]))).toEqual(['1', '2', '3']);
  });
});
