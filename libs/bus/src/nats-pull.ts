import { createInbox, nanos, type Msg, type NatsConnection } from 'nats';
import { AirlockError } from '@airlock/errors';
import type { ConsumedMessage } from './bus.js';
import { toConsumedMessage } from './nats-message.js';

export interface PullResult {
  messages: ConsumedMessage[];
  /** The request had no responder: the consumer (or stream) is gone and must be created again. */
  missingConsumer: boolean;
}

/** Past the server-side expiry, after which the server (which ends every request with a status) counts as gone. */
const CLIENT_GRACE_MS = 1_000;

/**
 * One pull request in JetStream's "no_wait with expires" mode: the server waits up to `expires` for a first
 * message, then sends what is available (up to `batch`) and ends the request with a status at once. The client
 * libraries' fetch helpers instead keep a partial batch open until expiry, which would hold a lone approval event
 * for the whole wait.
 */
export function pullOnce(
  nc: NatsConnection,
  server: string,
  stream: string,
  durable: string,
  max: number,
  expiresMs: number,
  signal: AbortSignal | undefined,
): Promise<PullResult> {
  return new Promise((resolve, reject) => {
    const messages: ConsumedMessage[] = [];
    let settled = false;
    const inbox = createInbox();

    const finish = (error?: AirlockError, missingConsumer = false): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      signal?.removeEventListener('abort', onAbort);
      sub.unsubscribe();
      if (error) reject(error);
      else resolve({ messages, missingConsumer });
    };
    const onAbort = (): void => finish();

    const sub = nc.subscribe(inbox, {
      callback: (error, msg: Msg) => {
        if (error) {
          finish(new AirlockError('DependencyUnavailable', `NATS at ${server} refused the pull subscription.`, { cause: error }));
          return;
        }
        const status = statusOf(msg);
        if (status === undefined) {
          try {
            messages.push(toConsumedMessage(nc, msg, server));
          } catch (cause) {
            finish(cause instanceof AirlockError ? cause : new AirlockError('Internal', 'Unreadable JetStream delivery.', { cause }));
            return;
          }
          if (messages.length >= max) finish();
          return;
        }
        if (status.code < 300) return; // heartbeats and flow control: not ours to act on
        if (status.code === 404 || status.code === 408) return finish();
        if (status.code === 503) return finish(undefined, true);
        if (status.code === 409) {
          // "consumer deleted" and "exceeded maxwaiting" are transient; limits on the request itself are configuration.
          if (/exceeded max(request|.*bytes)|message size/.test(status.description)) {
            return finish(new AirlockError('InvalidConfiguration', `JetStream refused the pull request: ${status.description}.`));
          }
          return finish(undefined, status.description.includes('deleted'));
        }
        finish(new AirlockError('Internal', `JetStream answered the pull request with ${status.code} ${status.description}.`));
      },
    });

    // Closing or draining the connection ends the subscription; the fetch then resolves with what it has.
    sub.closed.then(() => finish(), () => finish());
    // The server always ends the request by itself; silence past the grace means it is unreachable.
    const timer = setTimeout(
      () => finish(new AirlockError('DependencyUnavailable', `NATS at ${server} did not answer a fetch for ${stream}/${durable}.`)),
      Math.max(0, expiresMs) + CLIENT_GRACE_MS,
    );
    if (signal?.aborted) return finish();
    signal?.addEventListener('abort', onAbort, { once: true });

    const request = expiresMs > 0 ? { batch: max, expires: nanos(expiresMs), no_wait: true } : { batch: max, no_wait: true };
    try {
      nc.publish(`$JS.API.CONSUMER.MSG.NEXT.${stream}.${durable}`, JSON.stringify(request), { reply: inbox });
    } catch (cause) {
      finish(new AirlockError('DependencyUnavailable', `NATS at ${server} is unavailable (fetch).`, { cause }));
    }
  });
}

function statusOf(msg: Msg): { code: number; description: string } | undefined {
  const headers = msg.headers;
  if (!headers || msg.data.length > 0 || msg.reply?.startsWith('$JS.ACK.')) return undefined;
  const code = headers.code;
  if (!code) return undefined;
  return { code, description: (headers.description ?? '').toLowerCase() };
}
