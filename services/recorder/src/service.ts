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
  /** Most session events pulled and written per round. */
  batchSize: number;
  logger: Logger;
  /** Durable consumer name; recorders sharing it share the work. @default 'recorder' */
  durable?: string;
  /** Delays between attempts while the blob store or the bus fails. @default { initialDelayMs: 500, maxDelayMs: 30000 } */
  retry?: BackoffOptions;
  /** Ed25519 key that signs each object's digest (see parseSigningKey); without it digests are unsigned and verify says so. */
  signingKey?: SigningKey;
}

/**
 * The recorder: a JetStream consumer that files session events into the blob store, and a query service over what
 * it filed. The bus and blob store belong to the caller, who closes them after the recorder.
 */
export async function createRecorderService(options: RecorderOptions): Promise<ServiceRuntime<typeof RecorderServiceService>> {
  const prefix = options.prefix ?? 'sessions/';
  const durable = options.durable ?? 'recorder';
  if (!Number.isSafeInteger(options.batchSize) || options.batchSize < 1) {
    throw new AirlockError('InvalidConfiguration', `recorder.batchSize must be a positive integer, got ${options.batchSize}`);
  }
  if (prefix !== '' && !prefix.endsWith('/')) {
    // Without the slash, session folders would run into whatever else shares the prefix.
    throw new AirlockError('InvalidConfiguration', `recorder.prefix must end with "/", got "${prefix}"`);
  }
  let loop: RecordingLoop | undefined;
  let closed = false;

  return {
    name: 'recorder',
    definition: RecorderServiceService,
    implementation: createQueryHandlers({
      blob: options.blob,
      prefix,
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
        batchSize: options.batchSize,
        durable,
        logger: options.logger,
        ...(options.retry ? { retry: options.retry } : {}),
        ...(options.signingKey ? { signingKey: options.signingKey } : {}),
      });
      options.logger.info(
        { durable, prefix, batchSize: options.batchSize, digestKeyId: options.signingKey?.keyId ?? null },
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
