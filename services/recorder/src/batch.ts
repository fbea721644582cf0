import type { ConsumedMessage } from '@airlock/bus';
import { SessionEvent, sessionEventsStream } from '@airlock/contracts';
import { isValidSessionId } from './keys.js';

/** The events of one session in one fetched batch, in stream order. */
export interface SessionChunk {
  sessionId: string;
  firstSeq: number;
  messages: ConsumedMessage[];
  events: SessionEvent[];
}

export interface RejectedMessage {
  message: ConsumedMessage;
  reason: string;
}

/**
 * Decodes a fetched batch and groups it by session. A message that is not a well-formed session event is rejected
 * rather than thrown on: redelivering it could never succeed, and it must not hold up the events around it.
 */
export function splitBatch(messages: readonly ConsumedMessage[]): { chunks: SessionChunk[]; rejected: RejectedMessage[] } {
  const chunks = new Map<string, SessionChunk>();
  const rejected: RejectedMessage[] = [];
  for (const message of [...messages].sort((a, b) => a.seq - b.seq)) {
    const decoded = decode(message);
    if (typeof decoded === 'string') {
      rejected.push({ message, reason: decoded });
      continue;
    }
    const chunk = chunks.get(decoded.sessionId);
    if (chunk) {
      chunk.messages.push(message);
      chunk.events.push(decoded);
    } else {
      chunks.set(decoded.sessionId, { sessionId: decoded.sessionId, firstSeq: message.seq, messages: [message], events: [decoded] });
    }
  }
  return { chunks: [...chunks.values()], rejected };
}

function decode(message: ConsumedMessage): SessionEvent | string {
  let event: SessionEvent;
  try {
    event = SessionEvent.decode(message.data);
  } catch {
    return 'not a SessionEvent';
  }
  if (!isValidSessionId(event.sessionId)) return 'missing or malformed session id';
  // Publishers use subjectFor(sessionId); an event filed under another session's subject is not trusted.
  if (message.subject !== sessionEventsStream.subjectFor(event.sessionId)) return 'session id does not match the subject';
  return event;
}
