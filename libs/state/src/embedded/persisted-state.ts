import { mkdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { AirlockError } from '@airlock/errors';
import { lockDir, writeFileAtomic } from '@airlock/local-files';
import { MemoryState, type SnapshotEntry } from './memory-state.js';

interface SnapshotFile {
  version: 1;
  entries: SnapshotEntry[];
}

/** Changes are batched for this long before the snapshot is rewritten; a crash loses at most this window. */
const WRITE_BEHIND_MS = 50;
const RETRY_MS = 1_000;

/**
 * MemoryState, written behind to `state.json` in the data folder (whole snapshot, atomic rename) and read back on
 * start. Without a folder it is memory only.
 */
export class StateCore {
  readonly state: MemoryState;
  private dirty = false;
  private timer: NodeJS.Timeout | undefined;
  private writing: Promise<void> | undefined;
  private lastError: unknown;
  private closed = false;

  private constructor(
    private readonly file: string | undefined,
    initial: SnapshotEntry[],
    private readonly unlock: () => Promise<void>,
  ) {
    this.state = new MemoryState(initial, () => this.changed());
  }

  static memory(): StateCore {
    return new StateCore(undefined, [], async () => undefined);
  }

  static async open(dir: string): Promise<StateCore> {
    await mkdir(dir, { recursive: true });
    const unlock = await lockDir(dir, 'embedded state store');
    const file = join(dir, 'state.json');
    try {
      let initial: SnapshotEntry[] = [];
      try {
        const parsed = JSON.parse(await readFile(file, 'utf8')) as SnapshotFile;
        if (parsed.version !== 1 || !Array.isArray(parsed.entries)) throw new Error(`unknown snapshot format`);
        initial = parsed.entries;
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'ENOENT') {
          throw new AirlockError('InvalidConfiguration', `The embedded state file ${file} is unreadable.`, { cause: error });
        }
      }
      return new StateCore(file, initial, unlock);
    } catch (error) {
      await unlock();
      throw error;
    }
  }

  /** Writes what is pending, stops, and releases the folder. */
  async close(): Promise<void> {
    this.closed = true;
    this.state.stop();
    clearTimeout(this.timer);
    this.timer = undefined;
    try {
      await this.writing;
      if (this.dirty) await this.flush();
      if (this.dirty) {
        throw new AirlockError('DependencyUnavailable', `The embedded state could not be saved to ${this.file}.`, { cause: this.lastError });
      }
    } finally {
      await this.unlock();
    }
  }

  private changed(): void {
    if (!this.file) return;
    this.dirty = true;
    this.schedule(WRITE_BEHIND_MS);
  }

  private schedule(delayMs: number): void {
    if (this.timer || this.writing || this.closed) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      void this.flush();
    }, delayMs);
  }

  private flush(): Promise<void> {
    if (!this.file || this.writing) return this.writing ?? Promise.resolve();
    const file = this.file;
    this.dirty = false;
    const body: SnapshotFile = { version: 1, entries: this.state.snapshot() };
    this.writing = writeFileAtomic(file, JSON.stringify(body)).then(
      () => {
        this.writing = undefined;
        if (this.dirty) this.schedule(WRITE_BEHIND_MS);
      },
      (error: unknown) => {
        this.writing = undefined;
        this.lastError = error;
        this.dirty = true;
        this.schedule(RETRY_MS);
      },
    );
    return this.writing;
  }
}
