import { randomUUID } from 'node:crypto';
import { SessionEvent, sessionEventsStream } from '@airlock/contracts';
import type { Bus } from '@airlock/bus';
import type { Logger } from '@airlock/logging';

export type SessionEventBody = NonNullable<SessionEvent['body']>;

export interface SessionEventSink {
  /** Records one event; resolves once the bus holds it durably. */
  record(sessionId: string, body: SessionEventBody): Promise<void>;
}

/**
 * Publishes session events on JetStream, de-duplicated by event id. The stream is declared once per process on
 * first use, shared by every concurrent caller.
 */
export function createSessionEventSink(bus: Bus, edgeId: string, logger: Logger, now: () => number = Date.now): SessionEventSink {
  let declared: Promise<void> | undefined;
  const declare = () => {
    declared ??= bus.ensureStream({ name: sessionEventsStream.name, subjects: [...sessionEventsStream.subjects] }).catch((error: unknown) => {
      declared = undefined;
      throw error;
    });
    return declared;
  };
  return {
    async record(sessionId, body) {
      const event: SessionEvent = { eventId: randomUUID(), sessionId, atMs: now(), edgeId, body };
      await declare();
      await bus.publish(sessionEventsStream.subjectFor(sessionId), SessionEvent.encode(event).finish(), { msgId: event.eventId });
      logger.debug({ sessionId, kind: body.$case }, 'session event recorded');
    },
  };
}
