import { join } from 'node:path';
import type { AirlockConfig } from '@airlock/config';
import { createS3BlobStore, createFileBlobStore, type BlobStore } from '@airlock/blob';
import { createEmbeddedBus, createNatsBus, type Bus } from '@airlock/bus';
import { createEmbeddedStateStore, createRedisStateStore, type StateStore } from '@airlock/state';

/** Opens the bus, state store and blob store the configuration names; embedded ones live under dataDir. */
export async function openBus(config: AirlockConfig, name: string): Promise<Bus> {
  const bus = config.drivers.bus;
  return bus.kind === 'nats'
    ? createNatsBus({ servers: [...bus.servers], name })
    : createEmbeddedBus({ dataDir: join(config.dataDir, 'bus') });
}

export async function openState(config: AirlockConfig): Promise<StateStore> {
  const state = config.drivers.state;
  return state.kind === 'redis' ? createRedisStateStore({ url: state.url }) : createEmbeddedStateStore({ dataDir: join(config.dataDir, 'state') });
}

export async function openBlob(config: AirlockConfig): Promise<BlobStore> {
  const blob = config.drivers.blob;
  return blob.kind === 's3'
    ? createS3BlobStore({
        bucket: blob.bucket,
        region: blob.region,
        forcePathStyle: blob.forcePathStyle,
        createBucket: true,
        ...(blob.endpoint ? { endpoint: blob.endpoint } : {}),
      })
    : createFileBlobStore({ dir: join(config.dataDir, 'recordings') });
}
