import { join } from 'node:path';
import type { AirlockConfig } from '@airlock/config';
import type { BlobStore } from '@airlock/blob';
import type { Bus } from '@airlock/bus';
import type { StateStore } from '@airlock/state';

/**
 * Opens the bus, state store and blob store the configuration names; embedded ones live under dataDir. Each driver
 * library is loaded when it is opened: `airlock sessions list` reads the blob store only, and the clients of NATS,
 * Redis and S3 take time to load.
 */
export async function openBus(config: AirlockConfig, name: string): Promise<Bus> {
  const bus = config.drivers.bus;
  const { createEmbeddedBus, createNatsBus } = await import('@airlock/bus');
  return bus.kind === 'nats'
    ? createNatsBus({ servers: [...bus.servers], name })
    : createEmbeddedBus({ dataDir: join(config.dataDir, 'bus') });
}

export async function openState(config: AirlockConfig): Promise<StateStore> {
  const state = config.drivers.state;
  const { createEmbeddedStateStore, createRedisStateStore } = await import('@airlock/state');
  return state.kind === 'redis' ? createRedisStateStore({ url: state.url }) : createEmbeddedStateStore({ dataDir: join(config.dataDir, 'state') });
}

export async function openBlob(config: AirlockConfig): Promise<BlobStore> {
  const blob = config.drivers.blob;
  if (blob.kind !== 's3') return (await import('@airlock/blob/file')).createFileBlobStore({ dir: join(config.dataDir, 'recordings') });
  const { createS3BlobStore } = await import('@airlock/blob/s3');
  return createS3BlobStore({
    bucket: blob.bucket,
    region: blob.region,
    forcePathStyle: blob.forcePathStyle,
    createBucket: true,
    ...(blob.endpoint ? { endpoint: blob.endpoint } : {}),
  });
}
