import { AirlockError } from '@airlock/errors';
import type { MemoryState } from './embedded/memory-state.js';
import { acquireCore } from './embedded/shared.js';
import type { IncrementOptions, SetOptions, StateStore } from './state-store.js';
import { ttlOf, validateKey, validateValue } from './validate.js';

export interface EmbeddedStateStoreOptions {
  /** Persist to `state.json` here and reload it on start; memory only when omitted. */
  dataDir?: string;
}

/**
 * The single-machine state store. Stores opened on the same folder in one process share their data, like clients
 * of one Redis; another process using the folder is refused.
 */
export async function createEmbeddedStateStore(options: EmbeddedStateStoreOptions = {}): Promise<StateStore> {
  const { core, release } = await acquireCore(options.dataDir);
  return new EmbeddedStateStore(core.state, release);
}

class EmbeddedStateStore implements StateStore {
  private closing: Promise<void> | undefined;

  constructor(
    private readonly memory: MemoryState,
    private readonly release: () => Promise<void>,
  ) {}

  async get(key: string): Promise<string | null> {
    validateKey(key);
    return this.state().get(key);
  }

  async set(key: string, value: string, options: SetOptions = {}): Promise<boolean> {
    validateKey(key);
    validateValue(value);
    return this.state().set(key, value, ttlOf(options.ttlMs), options.onlyIfAbsent === true);
  }

  async compareAndSet(key: string, expected: string | null, value: string, options: { ttlMs?: number } = {}): Promise<boolean> {
    validateKey(key);
    validateValue(value);
    return this.state().compareAndSet(key, expected, value, ttlOf(options.ttlMs));
  }

  async delete(key: string): Promise<void> {
    validateKey(key);
    this.state().delete(key);
  }

  async increment(key: string, options: IncrementOptions = {}): Promise<number> {
    validateKey(key);
    return this.state().increment(key, ttlOf(options.ttlMs));
  }

  async *scan(prefix: string): AsyncIterable<string> {
    // A point-in-time list: keys written while the caller iterates may or may not appear, as with SCAN.
    for (const key of this.state().keys(prefix)) yield key;
  }

  close(): Promise<void> {
    this.closing ??= this.release();
    return this.closing;
  }

  private state(): MemoryState {
    if (this.closing) throw new AirlockError('DependencyUnavailable', 'The embedded state store is closed.');
    return this.memory;
  }
}
