import { open, type FileHandle } from 'node:fs/promises';

/**
 * An append-only file with one writer. Writes are queued so that the file order is the call order; after a failed
 * write nothing more is written, because a later record landing behind a torn one would be unreadable.
 */
export class AppendLog {
  private tail: Promise<unknown> = Promise.resolve();
  private failure: unknown;

  private constructor(
    readonly path: string,
    private readonly fh: FileHandle,
  ) {}

  static async open(path: string): Promise<AppendLog> {
    return new AppendLog(path, await open(path, 'a'));
  }

  append(data: Uint8Array): Promise<void> {
    return this.run(async (fh) => {
      try {
        let written = 0;
        while (written < data.length) {
          const { bytesWritten } = await fh.write(data, written, data.length - written, null);
          written += bytesWritten;
        }
      } catch (error) {
        this.failure = error;
        throw error;
      }
    });
  }

  /** Runs `task` with exclusive use of the file, in queue order with appends (compaction uses it to truncate). */
  run<T>(task: (fh: FileHandle) => Promise<T>): Promise<T> {
    const result = this.tail.then(() => {
      if (this.failure !== undefined) throw this.failure;
      return task(this.fh);
    });
    this.tail = result.catch(() => undefined);
    return result;
  }

  async close(): Promise<void> {
    await this.tail;
    await this.fh.close();
  }
}
