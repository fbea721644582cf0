import type { CallRequested } from '@airlock/contracts';
import { AirlockError } from '@airlock/errors';
import type { SessionEventSink } from './events.js';

/**
 * Strict recording: the call's request event must be on the bus (acknowledged by JetStream) before the call is
 * forwarded. A bus that fails or does not answer within `timeoutMs` refuses the call with a retryable
 * ServiceUnavailable; nothing is forwarded.
 */
export async function recordBeforeForwarding(events: SessionEventSink, sessionId: string, requested: CallRequested, timeoutMs: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  try {
    await Promise.race([
      events.record(sessionId, { $case: 'requested', value: requested }),
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error('the bus did not acknowledge in time')), timeoutMs);
      }),
    ]);
  } catch (error) {
    throw new AirlockError('DependencyUnavailable', 'Session recording is unavailable and this Airlock records strictly: the call was not forwarded. Retry shortly.', {
      cause: error,
    });
  } finally {
    clearTimeout(timer);
  }
}
