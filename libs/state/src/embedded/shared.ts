import { resolve } from 'node:path';
import { StateCore } from './persisted-state.js';

interface Shared {
  core: Promise<StateCore>;
  refs: number;
}

/** One core per data folder per process; stores share it and the last one to close saves and shuts it down. */
const open = new Map<string, Shared>();
const closing = new Map<string, Promise<void>>();

export async function acquireCore(dataDir: string | undefined): Promise<{ core: StateCore; release(): Promise<void> }> {
  if (dataDir === undefined) {
    const core = StateCore.memory();
    return { core, release: () => core.close() };
  }
  const dir = resolve(dataDir);
  let shared = open.get(dir);
  if (!shared) {
    const previous = closing.get(dir);
    const core = (async () => {
      await previous?.catch(() => undefined);
      return StateCore.open(dir);
    })();
    const created: Shared = { core, refs: 0 };
    shared = created;
    open.set(dir, created);
    core.catch(() => {
      if (open.get(dir) === created) open.delete(dir);
    });
  }
  const current = shared;
  current.refs += 1;
  let core: StateCore;
  try {
    core = await current.core;
  } catch (error) {
    current.refs -= 1;
    throw error;
  }
  let released = false;
  return {
    core,
    release: async () => {
      if (released) return;
      released = true;
      current.refs -= 1;
      if (current.refs > 0) return;
      open.delete(dir);
      const done = core.close().finally(() => {
        if (closing.get(dir) === done) closing.delete(dir);
      });
      closing.set(dir, done);
      await done;
    },
  };
}
