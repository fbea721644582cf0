import { createFolderRegistry } from '@airlock/local-files';
import { StateCore } from './persisted-state.js';

/** One core per data folder per process; stores share it and the last one to close saves and shuts it down. */
const cores = createFolderRegistry((dir) => StateCore.open(dir));

export async function acquireCore(dataDir: string | undefined): Promise<{ core: StateCore; release(): Promise<void> }> {
  if (dataDir === undefined) {
    const core = StateCore.memory();
    return { core, release: () => core.close() };
  }
  const { resource, release } = await cores.acquire(dataDir);
  return { core: resource, release };
}
