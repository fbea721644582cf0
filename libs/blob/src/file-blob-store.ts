import { randomUUID } from 'node:crypto';
import { mkdir, readFile, readdir, rename, rm, stat, writeFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { AirlockError } from '@airlock/errors';
import type { BlobEntry, BlobStore, PutOptions } from './blob-store.js';
import { OBJECT_SUFFIX, decodeSegment, folderPath, objectPath } from './file-paths.js';
import { compareKeys, validateKey } from './keys.js';

export interface FileBlobStoreOptions {
  dir: string;
}

/**
 * The single-machine blob store: one file per object under `dir`. Content types are accepted and not kept, as
 * nothing in the interface reads them back.
 */
export async function createFileBlobStore(options: FileBlobStoreOptions): Promise<BlobStore> {
  const root = resolve(options.dir);
  try {
    await mkdir(root, { recursive: true });
  } catch (cause) {
    throw new AirlockError('InvalidConfiguration', `The blob folder ${root} cannot be created.`, { cause });
  }
  return new FileBlobStore(root);
}

class FileBlobStore implements BlobStore {
  private closed = false;

  constructor(private readonly root: string) {}

  async put(key: string, body: Uint8Array | string, _options: PutOptions = {}): Promise<void> {
    validateKey(key);
    this.assertOpen();
    const path = objectPath(this.root, key);
    // Same folder as the target, so the rename is atomic; the leading dot keeps it out of listings.
    const temp = join(dirname(path), `.tmp-${randomUUID()}`);
    try {
      await mkdir(dirname(path), { recursive: true });
      await writeFile(temp, body);
      await rename(temp, path);
    } catch (cause) {
      await rm(temp, { force: true }).catch(() => undefined);
      throw new AirlockError('DependencyUnavailable', `The blob folder ${this.root} could not store ${JSON.stringify(key)}.`, { cause });
    }
  }

  async get(key: string): Promise<Uint8Array | null> {
    validateKey(key);
    this.assertOpen();
    try {
      return new Uint8Array(await readFile(objectPath(this.root, key)));
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if (code === 'ENOENT' || code === 'ENOTDIR') return null;
      throw new AirlockError('DependencyUnavailable', `The blob folder ${this.root} could not read ${JSON.stringify(key)}.`, { cause: error });
    }
  }

  async *list(prefix: string): AsyncIterable<BlobEntry> {
    this.assertOpen();
    // Whole segments of the prefix name a folder to start in; the rest filters that folder's entries.
    const cut = prefix.lastIndexOf('/');
    const folders = cut < 0 ? [] : prefix.slice(0, cut).split('/');
    const partial = prefix.slice(cut + 1);
    if (folders.some((s) => s === '' || s === '.' || s === '..')) return;
    const base = folderPath(this.root, folders);
    const keyBase = cut < 0 ? '' : `${prefix.slice(0, cut)}/`;
    const found: BlobEntry[] = [];
    try {
      await this.walk(base, keyBase, partial, found);
    } catch (cause) {
      throw new AirlockError('DependencyUnavailable', `The blob folder ${this.root} could not be listed.`, { cause });
    }
    found.sort((a, b) => compareKeys(a.key, b.key));
    yield* found;
  }

  async close(): Promise<void> {
    this.closed = true;
  }

  /** Collects objects under `folder` whose next segment starts with `startsWith` (everything below, after that). */
  private async walk(folder: string, keyBase: string, startsWith: string, found: BlobEntry[]): Promise<void> {
    let entries;
    try {
      entries = await readdir(folder, { withFileTypes: true });
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if (code === 'ENOENT' || code === 'ENOTDIR') return;
      throw error;
    }
    for (const entry of entries) {
      if (entry.name.startsWith('.')) continue;
      if (entry.isDirectory()) {
        const segment = decodeSegment(entry.name);
        if (segment === undefined || !segment.startsWith(startsWith)) continue;
        await this.walk(join(folder, entry.name), `${keyBase}${segment}/`, '', found);
      } else if (entry.isFile() && entry.name.endsWith(OBJECT_SUFFIX)) {
        const segment = decodeSegment(entry.name.slice(0, -OBJECT_SUFFIX.length));
        if (segment === undefined || !segment.startsWith(startsWith)) continue;
        try {
          const { size } = await stat(join(folder, entry.name));
          found.push({ key: `${keyBase}${segment}`, size });
        } catch (error) {
          if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
        }
      }
    }
  }

  private assertOpen(): void {
    if (this.closed) throw new AirlockError('DependencyUnavailable', `The file blob store at ${this.root} is closed.`);
  }
}
