import { resolve } from 'node:path';

/** Something opened on a data folder and shut down by `close`. */
export interface FolderResource {
  close(): Promise<void>;
}

export interface FolderLease<T> {
  resource: T;
  /** Idempotent. The last lease on a folder to be released closes its resource. */
  release(): Promise<void>;
}

export interface FolderRegistryOptions {
  /**
   * When the resource last opened on a folder failed to close: open the folder again anyway (true, the default),
   * or fail the next acquire with that close error (false).
   */
  reopenAfterFailedClose?: boolean;
}

export interface FolderRegistry<T extends FolderResource> {
  /** Opens the folder, or joins the resource already open on it in this process. */
  acquire(dataDir: string): Promise<FolderLease<T>>;
}

interface Shared<T> {
  resource: Promise<T>;
  refs: number;
}

/**
 * One resource per data folder per process: callers share it, the last one to release it closes it, and a folder
 * being closed is opened again only once that close has finished. Paths are compared after `path.resolve`.
 */
export function createFolderRegistry<T extends FolderResource>(
  openFolder: (dir: string) => Promise<T>,
  options: FolderRegistryOptions = {},
): FolderRegistry<T> {
  const reopenAfterFailedClose = options.reopenAfterFailedClose ?? true;
  const open = new Map<string, Shared<T>>();
  const closing = new Map<string, Promise<void>>();

  async function acquire(dataDir: string): Promise<FolderLease<T>> {
    const dir = resolve(dataDir);
    let shared = open.get(dir);
    if (!shared) {
      const previous = closing.get(dir);
      const resource = (async () => {
        await (reopenAfterFailedClose ? previous?.catch(() => undefined) : previous);
        return openFolder(dir);
      })();
      const created: Shared<T> = { resource, refs: 0 };
      shared = created;
      open.set(dir, created);
      resource.catch(() => {
        if (open.get(dir) === created) open.delete(dir);
      });
    }
    const current = shared;
    current.refs += 1;
    let resource: T;
    try {
      resource = await current.resource;
    } catch (error) {
      current.refs -= 1;
      throw error;
    }
    let released = false;
    return {
      resource,
      release: async () => {
        if (released) return;
        released = true;
        current.refs -= 1;
        if (current.refs > 0) return;
        open.delete(dir);
        const done = resource.close().finally(() => {
          if (closing.get(dir) === done) closing.delete(dir);
        });
        closing.set(dir, done);
        await done;
      },
    };
  }

  return { acquire };
}
