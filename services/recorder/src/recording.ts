import { setTimeout as sleep } from 'node:timers/promises';
import type { BlobStore } from '@airlock/blob';
import type { Bus, ConsumedMessage, ConsumerSpec } from '@airlock/bus';
import { sessionEventsStream } from '@airlock/contracts';
import type { Logger } from '@airlock/logging';
import { createBackoff, type BackoffOptions } from './backoff.js';
import { splitBatch, type SessionChunk } from './batch.js';
import type { SigningKey } from './chain.js';
import { storeChunk, type SessionLink } from './store.js';

export interface RecordingLoopOptions {
  bus: Bus;
  blob: BlobStore;
  prefix: string;
  batchSize: number;
  durable: string;
  logger: Logger;
  retry?: BackoffOptions;
  /** Signs each object's digest; without it digests are written unsigned. */
  signingKey?: SigningKey;
}

export interface RecordingLoop {
  /** Ends the pull loop and resolves once the batch in flight is stored (or handed back to the bus). */
  stop(): Promise<void>;
}

/** Long enough that an idle loop costs little, short enough that stop() is prompt even if a bus ignores the signal. */
const fetchExpiresMs = 1_000;

/**
 * Pulls session events in bounded batches and writes each session's share of a batch as one object. A message is
 * acked only after its object is stored; when the blob store fails the batch is nak'ed with a delay and the loop
 * backs off, so nothing the bus accepted is dropped and a struggling store is not hammered.
 */
export function startRecordingLoop(options: RecordingLoopOptions): RecordingLoop {
  const controller = new AbortController();
  const done = run(options, controller.signal);
  return {
    async stop() {
      controller.abort();
      await done;
    },
  };
}

async function run(options: RecordingLoopOptions, signal: AbortSignal): Promise<void> {
  const { bus, batchSize, logger } = options;
  // maxDeliver stays unlimited: a recording must outlast any blob store outage, however long.
  const consumer: ConsumerSpec = { stream: sessionEventsStream.name, durable: options.durable };
  const backoff = createBackoff(options.retry);
  // Bounded: a session's link is only a shortcut; a forgotten one is read back from the blob store.
  const links = new Map<string, SessionLink>();
  while (!signal.aborted) {
    try {
      // Messages a fetch returns after an abort are still recorded rather than left to time out.
      const messages = await bus.fetch(consumer, { max: batchSize, expiresMs: fetchExpiresMs, signal });
      if (messages.length === 0) continue;
      const retryInMs = await recordBatch(messages, options, () => backoff.next(), links);
      if (links.size > 10_000) links.clear();
      if (retryInMs === undefined) backoff.reset();
      // Waiting out the nak delay lets the redelivered events come back before newer ones, which keeps objects in order.
      else await sleepUnlessAborted(retryInMs, signal);
    } catch (error) {
      if (signal.aborted) break;
      const retryInMs = backoff.next();
      logger.warn({ error: describe(error), retryInMs }, 'recording session events failed; retrying');
      await sleepUnlessAborted(retryInMs, signal);
    }
  }
}

/** Stores a batch; resolves with the redelivery delay when some of it could not be stored. */
async function recordBatch(
  messages: ConsumedMessage[],
  options: RecordingLoopOptions,
  nextDelay: () => number,
  links: Map<string, SessionLink>,
): Promise<number | undefined> {
  const { logger } = options;
  const { chunks, rejected } = splitBatch(messages);
  for (const { message, reason } of rejected) {
    logger.warn({ subject: message.subject, seq: message.seq, reason }, 'dropping a message that is not a session event');
    settle(() => message.term(), logger);
  }
  let retryInMs: number | undefined;
  await Promise.all(
    chunks.map(async (chunk) => {
      try {
        const key = await storeChunk(options.blob, options.prefix, chunk, logger, options.signingKey, Date.now, links);
        logger.debug({ sessionId: chunk.sessionId, key, events: chunk.events.length }, 'session events stored');
      } catch (error) {
        const delayMs = (retryInMs ??= nextDelay());
        logger.warn(
          { sessionId: chunk.sessionId, firstSeq: chunk.firstSeq, events: chunk.events.length, error: describe(error), retryInMs: delayMs },
          'storing session events failed; the bus will redeliver them',
        );
        for (const message of chunk.messages) settle(() => message.nak(delayMs), logger);
        return;
      }
      await ackAll(chunk, logger);
    }),
  );
  return retryInMs;
}

async function ackAll(chunk: SessionChunk, logger: Logger): Promise<void> {
  const results = await Promise.allSettled(chunk.messages.map((message) => message.ack()));
  const failed = results.filter((result) => result.status === 'rejected').length;
  // The events are stored; an unacked one comes back and is merged or de-duplicated by event id on read.
  if (failed > 0) logger.warn({ sessionId: chunk.sessionId, failed }, 'acking stored session events failed');
}

/** term() and nak() only fail when the bus is gone; the message then comes back after its ack wait anyway. */
function settle(action: () => void, logger: Logger): void {
  try {
    action();
  } catch (error) {
    logger.warn({ error: describe(error) }, 'handing a session event back to the bus failed');
  }
}

/** What a log may say about a dependency's error: its kind and message, never its request or response. */
function describe(error: unknown): { name: string; code?: string; message: string } {
  if (!(error instanceof Error)) return { name: 'unknown', message: String(error) };
  const code = (error as { code?: unknown }).code;
  return { name: error.name, message: error.message, ...(typeof code === 'string' ? { code } : {}) };
}

/** Waits `ms`, ending early (without an error) when the loop is stopped. */
function sleepUnlessAborted(ms: number, signal: AbortSignal): Promise<void> {
  return sleep(ms, undefined, { signal }).catch(() => undefined);
}
