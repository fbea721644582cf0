import { nanos, type Msg, type MsgHdrs, type NatsConnection } from 'nats';
import { AirlockError } from '@airlock/errors';
import type { ConsumedMessage } from './bus.js';
import { fromNatsError } from './nats-errors.js';
import { isReservedHeader } from './subjects.js';

const ACK_TIMEOUT_MS = 5_000;

/** Server-set headers (`Nats-Msg-Id`, status lines) are transport detail, not part of what was published. */
export function userHeaders(headers: MsgHdrs | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  if (!headers) return out;
  for (const [name, values] of headers) {
    if (!isReservedHeader(name)) out[name] = values.join(',');
  }
  return out;
}

interface DeliveryInfo {
  deliveryCount: number;
  streamSeq: number;
}

/**
 * JetStream puts the delivery facts in the ack subject: `$JS.ACK.<stream>.<consumer>.<delivered>.<sseq>.<dseq>.<ts>.<pending>`,
 * or, from servers that add domain and account, `$JS.ACK.<domain>.<account>.<stream>.<consumer>.<delivered>.<sseq>...`.
 */
export function parseAckSubject(reply: string): DeliveryInfo {
  const tokens = reply.split('.');
  const offset = tokens.length === 9 ? 4 : tokens.length >= 11 ? 6 : -1;
  const deliveryCount = Number(tokens[offset]);
  const streamSeq = Number(tokens[offset + 1]);
  if (tokens[0] !== '$JS' || tokens[1] !== 'ACK' || offset < 0 || !Number.isSafeInteger(deliveryCount) || !Number.isSafeInteger(streamSeq)) {
    throw new AirlockError('Internal', 'NATS delivered a message without a JetStream ack subject.');
  }
  return { deliveryCount, streamSeq };
}

export function toConsumedMessage(nc: NatsConnection, msg: Msg, server: string): ConsumedMessage {
  const reply = msg.reply ?? '';
  const { deliveryCount, streamSeq } = parseAckSubject(reply);
  // nak and term are fire-and-forget in JetStream too: if they are lost, ackWait redelivers, which is the safe side.
  const send = (payload: string): void => {
    try {
      nc.publish(reply, payload);
    } catch {
      // connection already closed
    }
  };
  return {
    subject: msg.subject,
    data: msg.data,
    headers: userHeaders(msg.headers),
    seq: streamSeq,
    deliveryCount,
    async ack() {
      try {
        // A request, not a publish: the server confirms, so a resolved ack() means the ack was recorded.
        await nc.request(reply, '+ACK', { timeout: ACK_TIMEOUT_MS });
      } catch (error) {
        throw fromNatsError(error, server, 'ack');
      }
    },
    nak(delayMs?: number) {
      send(delayMs && delayMs > 0 ? `-NAK ${JSON.stringify({ delay: nanos(delayMs) })}` : '-NAK');
    },
    term() {
      send('+TERM');
    },
  };
}
