import { setTimeout as sleep } from 'node:timers/promises';
import type { Bus, ConsumedMessage, ConsumerSpec } from '@airlock/bus';
import { ApprovalEvent, approvalEventsStream } from '@airlock/contracts';
import type { Logger } from '@airlock/logging';
import { ClaimHeld, type MessageLedger } from './ledger.js';

export interface BackoffOptions {
  /** First delay after a failure. @default 1000 */
  initialDelayMs?: number;
  /** Longest delay, reached by doubling. @default 60000 */
  maxDelayMs?: number;
}

export interface ConsumerOptions {
  bus: Bus;
  ledger: MessageLedger;
  durable: string;
  logger: Logger;
  retry?: BackoffOptions;
}

/** Long enough that an idle loop costs little, short enough that stop() is prompt. */
const fetchExpiresMs = 1_000;

/**
 * Pulls approval events from the durable consumer one at a time, in stream order. An event is acked only once every
 * channel's message matches it (posted and recorded, or updated); otherwise it is nak'ed with a growing delay, so a
 * Slack outage loses nothing and is not hammered.
 */
export function startConsumer(options: ConsumerOptions): { stop(): Promise<void> } {
  const controller = new AbortController();
  const done = run(options, controller.signal);
  return {
    async stop() {
      controller.abort();
      await done;
    },
  };
}

async function run(options: ConsumerOptions, signal: AbortSignal): Promise<void> {
  const { bus, logger } = options;
  const consumer: ConsumerSpec = { stream: approvalEventsStream.name, durable: options.durable, ackWaitMs: 60_000 };
  const initial = options.retry?.initialDelayMs ?? 1_000;
  const max = Math.max(initial, options.retry?.maxDelayMs ?? 60_000);
  let failures = 0;
  const nextDelay = () => Math.min(max, initial * 2 ** Math.min(failures++, 30));
  while (!signal.aborted) {
    let messages: ConsumedMessage[];
    try {
      messages = await bus.fetch(consumer, { max: 10, expiresMs: fetchExpiresMs, signal });
    } catch (error) {
      if (signal.aborted) break;
      const delay = nextDelay();
      logger.warn({ error: describe(error), retryInMs: delay }, 'fetching approval events failed; retrying');
      await sleepUnlessAborted(delay, signal);
      continue;
    }
    for (const message of messages) {
      // Once stopping, what was fetched goes straight back to the bus for whoever consumes next.
      if (signal.aborted) {
        settle(() => message.nak(), logger);
        continue;
      }
      // The ledger makes the order of events irrelevant (a decision seen first is posted as decided, the request
      // then finds it), so one event's failure holds up no other.
      const outcome = await handle(message, options);
      if (outcome === 'done') failures = 0;
      else settle(() => message.nak(outcome === 'busy' ? initial : nextDelay()), logger);
    }
  }
}

async function handle(message: ConsumedMessage, options: ConsumerOptions): Promise<'done' | 'busy' | 'failed'> {
  const { logger } = options;
  let event: ApprovalEvent;
  try {
    event = ApprovalEvent.decode(message.data);
  } catch {
    logger.warn({ subject: message.subject, seq: message.seq }, 'dropping a message that is not an approval event');
    settle(() => message.term(), logger);
    return 'done';
  }
  const approval = event.approval;
  if (!approval || approval.id === '' || !['requested', 'decided', 'expired'].includes(event.kind)) {
    logger.warn({ eventId: event.eventId, kind: event.kind }, 'dropping an approval event without an approval');
    settle(() => message.term(), logger);
    return 'done';
  }
  try {
    // A request never overwrites a message: it may already show a decision that was handled first.
    const result = await options.ledger.apply(approval, event.kind !== 'requested');
    logger.info({ approvalId: approval.id, kind: event.kind, ...result }, 'approval event handled');
  } catch (error) {
    if (error instanceof ClaimHeld) return 'busy';
    logger.warn({ approvalId: approval.id, kind: event.kind, error: describe(error), deliveries: message.deliveryCount }, 'approval event not handled; the bus will redeliver it');
    return 'failed';
  }
  try {
    await message.ack();
  } catch (error) {
    // Handled already; a redelivery finds the record and posts nothing.
    logger.warn({ approvalId: approval.id, error: describe(error) }, 'acking an approval event failed');
  }
  return 'done';
}

function settle(action: () => void, logger: Logger): void {
  try {
    action();
  } catch (error) {
    logger.warn({ error: describe(error) }, 'handing an approval event back to the bus failed');
  }
}

/** What a log may say about an error: its kind and message, never a request (which carries the bot token). */
export function describe(error: unknown): { name: string; code?: string; message: string } {
  if (!(error instanceof Error)) return { name: 'unknown', message: String(error) };
  const code = (error as { code?: unknown }).code;
  return { name: error.name, message: error.message, ...(typeof code === 'string' ? { code } : {}) };
}

/** Waits `ms`, ending early (without an error) when the loop is stopped. */
function sleepUnlessAborted(ms: number, signal: AbortSignal): Promise<void> {
  return sleep(ms, undefined, { signal }).catch(() => undefined);
}
