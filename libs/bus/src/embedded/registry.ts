import { createFolderRegistry } from '@airlock/local-files';
import { Engine } from './engine.js';

/**
 * One engine per data folder per process; handles share it and the last one to close shuts it down. An engine
 * that failed to close fails the next open of its folder with that error.
 */
const engines = createFolderRegistry((dir) => Engine.open(dir), { reopenAfterFailedClose: false });

export async function acquireEngine(dataDir: string): Promise<{ engine: Engine; release(): Promise<void> }> {
  const { resource, release } = await engines.acquire(dataDir);
  return { engine: resource, release };
}
