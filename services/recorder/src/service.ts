import type { BlobStore } from '@airlock/blob';
import type { Bus } from '@airlock/bus';
import { RecorderServiceService, sessionEventsStream } from '@airlock/contracts';
import { AirlockError } from '@airlock/errors';
import type { Logger } from '@airlock/logging';
import type { ServiceRuntime } from '@airlock/transport';
import type { BackoffOptions } from './backoff.js';
import type { SigningKey } from './chain.js';
import { createQueryHandlers } from './queries.js';
import { startRecordingLoop, type RecordingLoop } from './recording.js';

export interface RecorderOptions {
  bus: Bus;
  blob: BlobStore;
  /** Key prefix of recordings in the blob store. @default 'sessions/' */
  prefix?: string;
  /** Key prefix of the hourly query index; must not overlap `prefix`. @default 'index/' */
  indexPrefix?: string;
  /** Most session events pulled and written per round. */
  batchSize: number;
  logger: Logger;
  /** Durable consumer name; recorders sharing it share the work. @default 'recorder' */
  durable?: string;
  /** Delays between attempts while the blob store or the bus fails. @default { initialDelayMs: 500, maxDelayMs: 30000 } */
  retry?: BackoffOptions;
  /** Ack wait of the recorder's consumer; also how long it pauses after a bus failure. @default 10000 */
  ackWaitMs?: number;
  /**
   * Pull nothing for this long after starting, so that events a recorder that died left unacked are redelivered
   * before newer ones (use the ack wait where a recorder can restart while its bus keeps running). @default 0
   */
  startupHoldMs?: number;
  /** Ed25519 key that signs each object's digest (see parseSigningKey); without it digests are unsigned and verify says so. */
  signingKey?: SigningKey;
}

/**
 * The recorder: a JetStream consumer that files session events into the blob store, and a query service over what
 * it filed. The bus and blob store belong to the caller, who closes them after the recorder.
 */
export async function createRecorderService(options: RecorderOptions): Promise<ServiceRuntime<typeof RecorderServiceService>> {
  const prefix = options.prefix ?? 'sessions/';
  const indexPrefix = options.indexPrefix ?? 'index/';
  const durable = options.durable ?? 'recorder';
  const ackWaitMs = options.ackWaitMs ?? 10_000;
  if (!Number.isSafeInteger(options.batchSize) || options.batchSize < 1) {
    throw new AirlockError('InvalidConfiguration', `recorder.batchSize must be a positive integer, got ${options.batchSize}`);
  }
  if (prefix !== '' && !prefix.endsWith('/')) {
    // Without the slash, session folders would run into whatever else shares the prefix.
    throw new AirlockError('InvalidConfiguration', `recorder.prefix must end with "/", got "${prefix}"`);
  }
  if (!indexPrefix.endsWith('/') || indexPrefix.startsWith(prefix) || prefix.startsWith(indexPrefix)) {
    throw new AirlockError('InvalidConfiguration', `recorder.indexPrefix must end with "/" and lie outside recorder.prefix ("${prefix}"), got "${indexPrefix}"`);
  }
  if (!Number.isSafeInteger(ackWaitMs) || ackWaitMs < 1_000) {
    throw new AirlockError('InvalidConfiguration', `recorder.ackWaitMs must be at least 1000, got ${ackWaitMs}`);
  }
  let loop: RecordingLoop | undefined;
  let closed = false;

  return {
    name: 'recorder',
    definition: RecorderServiceService,
    implementation: createQueryHandlers({
      blob: options.blob,
      prefix,
      indexPrefix,
      logger: options.logger,
      ...(options.signingKey ? { trustedKeys: { [options.signingKey.keyId]: options.signingKey.publicKey } } : {}),
    }),
    async start() {
      if (loop || closed) return;
      await options.bus.ensureStream({ name: sessionEventsStream.name, subjects: [...sessionEventsStream.subjects] });
      if (closed) return;
      loop = startRecordingLoop({
        bus: options.bus,
        blob: options.blob,
        prefix,
        indexPrefix,
        batchSize: options.batchSize,
        durable,
        ackWaitMs,
        startupHoldMs: options.startupHoldMs ?? 0,
        logger: options.logger,
        ...(options.retry ? { retry: options.retry } : {}),
        ...(options.signingKey ? { signingKey: options.signingKey } : {}),
      });
      options.logger.info(
        { durable, prefix, indexPrefix, batchSize: options.batchSize, ackWaitMs, digestKeyId: options.signingKey?.keyId ?? null },
        options.signingKey ? 'recording session events with signed digests' : 'recording session events; digests are UNSIGNED (no signing key configured)',
      );
    },
    async close() {
      closed = true;
      await loop?.stop();
      loop = undefined;
    },
  };
}
