import { resolve } from 'node:path';
import { Engine } from './engine.js';

interface Shared {
  engine: Promise<Engine>;
  refs: number;
}

/** One engine per data folder per process; handles share it and the last one to close shuts it down. */
const open = new Map<string, Shared>();
const closing = new Map<string, Promise<void>>();

export async function acquireEngine(dataDir: string): Promise<{ engine: Engine; release(): Promise<void> }> {
  const dir = resolve(dataDir);
  let shared = open.get(dir);
  if (!shared) {
    const previous = closing.get(dir);
    const engine = (async () => {
      await previous;
      return Engine.open(dir);
    })();
    shared = { engine, refs: 0 };
    open.set(dir, shared);
    engine.catch(() => {
      if (open.get(dir) === shared) open.delete(dir);
    });
  }
  shared.refs += 1;
  const current = shared;
  let engine: Engine;
  try {
    engine = await current.engine;
  } catch (error) {
    current.refs -= 1;
    throw error;
  }
  let released = false;
  return {
    engine,
    release: async () => {
      if (released) return;
      released = true;
      current.refs -= 1;
      if (current.refs > 0) return;
      open.delete(dir);
      const done = engine.close().finally(() => {
        if (closing.get(dir) === done) closing.delete(dir);
      });
      closing.set(dir, done);
      await done;
    },
  };
}
