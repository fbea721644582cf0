import { setTimeout as sleep } from 'node:timers/promises';
import type { BlobStore } from '@airlock/blob';
import type { Bus, ConsumedMessage, ConsumerSpec } from '@airlock/bus';
import { sessionEventsStream } from '@airlock/contracts';
import type { Logger } from '@airlock/logging';
import { createBackoff, type BackoffOptions } from './backoff.js';
import { splitBatch, type SessionChunk } from './batch.js';
import type { SigningKey } from './chain.js';
import type { SessionLink } from './chain-walk.js';
import { observeStore } from './recorder-telemetry.js';
import { storeChunk, type StoreTarget } from './store.js';

export interface RecordingLoopOptions {
  bus: Bus;
  blob: BlobStore;
  prefix: string;
  indexPrefix: string;
  batchSize: number;
  durable: string;
  logger: Logger;
  retry?: BackoffOptions;
  /** Signs each object's digest; without it digests are written unsigned. */
  signingKey?: SigningKey;
  /** Ack wait of the recorder's consumer: how long the bus waits for an ack before delivering an event again. */
  ackWaitMs: number;
  /** Pull nothing for this long after starting (see {@link startRecordingLoop}). */
  startupHoldMs: number;
}

export interface RecordingLoop {
  /** Ends the pull loop and resolves once the batch in flight is stored (or handed back to the bus). */
  stop(): Promise<void>;
}

/** Long enough that an idle loop costs little, short enough that stop() is prompt even if a bus ignores the signal. */
const fetchExpiresMs = 1_000;
/** Past the ack wait, for the bus's redelivery timer to have fired. */
const redeliveryMarginMs = 500;

/**
 * Pulls session events in bounded batches and appends each session's share of a batch to its recording. A message
 * is acked only after the chain head names its object, so nothing the bus accepted is dropped.
 *
 * Order: a session's events must be filed in stream order, but the bus redelivers an unacked event only after its
 * ack wait, and meanwhile hands out newer ones. So the loop never lets events it holds go back to the bus while it
 * runs: when the blob store fails it keeps the batch and retries (backing off) until it is stored. Events can still
 * be left unacked by a recorder that died, or by an ack or a delivery the bus lost while it failed; after either —
 * on start (startupHoldMs) and once the bus answers again after a failure — the loop pulls nothing for one ack wait,
 * so those events come back before newer ones.
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
  const consumer: ConsumerSpec = { stream: sessionEventsStream.name, durable: options.durable, ackWaitMs: options.ackWaitMs };
  const backoff = createBackoff(options.retry);
  // Bounded: a session's link is only a shortcut; a forgotten one is read back from the blob store.
  const links = new Map<string, SessionLink>();
  const target: StoreTarget = { blob: options.blob, prefix: options.prefix, indexPrefix: options.indexPrefix, links, ...(options.signingKey ? { signingKey: options.signingKey } : {}) };
  if (options.startupHoldMs > 0) {
    logger.info({ holdMs: options.startupHoldMs }, 'waiting one ack wait before recording, so that events a stopped recorder left unacked come back first');
    await sleepUnlessAborted(options.startupHoldMs, signal);
  }
  while (!signal.aborted) {
    let messages: ConsumedMessage[];
    try {
      // Messages a fetch returns after an abort are still recorded rather than left to time out.
      messages = await bus.fetch(consumer, { max: batchSize, expiresMs: fetchExpiresMs, signal });
    } catch (error) {
      if (signal.aborted) break;
      logger.warn({ error: describe(error) }, 'pulling session events failed; waiting for the bus');
      await recoverFromBusFailure(options, signal);
      continue;
    }
    if (messages.length === 0) continue;
    const acked = await recordBatch(messages, target, options, backoff, signal);
    if (links.size > 10_000) links.clear();
    if (!acked) await recoverFromBusFailure(options, signal);
  }
}

/** Waits until the bus answers again, then one ack wait, so events whose ack or delivery it lost come back first. */
async function recoverFromBusFailure(options: RecordingLoopOptions, signal: AbortSignal): Promise<void> {
  const backoff = createBackoff(options.retry);
  while (!signal.aborted) {
    try {
      await options.bus.ensureStream({ name: sessionEventsStream.name, subjects: [...sessionEventsStream.subjects] });
      break;
    } catch {
      await sleepUnlessAborted(backoff.next(), signal);
    }
  }
  await sleepUnlessAborted(options.ackWaitMs + redeliveryMarginMs, signal);
}

/** Stores a batch, retrying each session's chunk until it is stored; resolves false when an ack was not confirmed. */
async function recordBatch(
  messages: ConsumedMessage[],
  target: StoreTarget,
  options: RecordingLoopOptions,
  backoff: ReturnType<typeof createBackoff>,
  signal: AbortSignal,
): Promise<boolean> {
  const { logger } = options;
  const { chunks, rejected } = splitBatch(messages);
  for (const { message, reason } of rejected) {
    logger.warn({ subject: message.subject, seq: message.seq, reason }, 'dropping a message that is not a session event');
    settle(() => message.term(), logger);
  }
  const results = await Promise.all(chunks.map((chunk) => storeWithRetry(chunk, target, logger, backoff, signal)));
  if (results.every(Boolean)) backoff.reset();
  return (await Promise.all(chunks.map((chunk, index) => (results[index] ? ackAll(chunk, logger) : true)))).every(Boolean);
}

/** Resolves true once stored; false when the loop was stopped first (the chunk then goes back to the bus at once). */
async function storeWithRetry(chunk: SessionChunk, target: StoreTarget, logger: Logger, backoff: ReturnType<typeof createBackoff>, signal: AbortSignal): Promise<boolean> {
  // A stop during the first attempt still lets it finish: the batch in flight is stored, not abandoned.
  for (let attempt = 0; attempt === 0 || !signal.aborted; attempt++) {
    try {
      const key = await observeStore(chunk, () => storeChunk(target, chunk));
      logger.debug({ sessionId: chunk.sessionId, key: key ?? null, events: chunk.events.length }, key ? 'session events stored' : 'redelivered session events were already stored');
      return true;
    } catch (error) {
      const retryInMs = backoff.next();
      logger.warn(
        { sessionId: chunk.sessionId, firstSeq: chunk.firstSeq, events: chunk.events.length, error: describe(error), retryInMs },
        'storing session events failed; holding them and retrying',
      );
      await sleepUnlessAborted(retryInMs, signal);
    }
  }
  for (const message of chunk.messages) settle(() => message.nak(), logger);
  return false;
}

async function ackAll(chunk: SessionChunk, logger: Logger): Promise<boolean> {
  const results = await Promise.allSettled(chunk.messages.map((message) => message.ack()));
  const failed = results.filter((result) => result.status === 'rejected').length;
  if (failed > 0) logger.warn({ sessionId: chunk.sessionId, failed }, 'acking stored session events failed; they will come back and be skipped as stored');
  return failed === 0;
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
