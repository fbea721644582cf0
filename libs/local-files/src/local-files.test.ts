import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { AirlockError } from '@airlock/errors';
import { createFolderRegistry, lockDir, writeFileAtomic } from './index.js';

let dir = '';
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'airlock-local-files-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('writeFileAtomic', () => {
  it('replaces the content and leaves no temporary file behind', async () => {
    const path = join(dir, 'file.json');
    await writeFileAtomic(path, 'old');
    await writeFileAtomic(path, new TextEncoder().encode('new'));
    expect(await readFile(path, 'utf8')).toBe('new');
    expect(await readdir(dir)).toEqual(['file.json']);
  });

  it('cleans up and rethrows when the write cannot land', async () => {
    await expect(writeFileAtomic(join(dir, 'missing', 'file.json'), 'x')).rejects.toMatchObject({ code: 'ENOENT' });
    expect(await readdir(dir)).toEqual([]);
  });
});

describe('lockDir', () => {
  it('takes the folder once, and again after release', async () => {
    const unlock = await lockDir(dir, 'test');
    expect(await readFile(join(dir, 'LOCK'), 'utf8')).toBe(String(process.pid));
    await unlock();
    expect(await readdir(dir)).toEqual([]);
    await (await lockDir(dir, 'test'))();
  });

  it('refuses a folder locked by another live process, naming it', async () => {
    await writeFile(join(dir, 'LOCK'), String(process.ppid));
    const attempt = lockDir(dir, 'test');
    await expect(attempt).rejects.toBeInstanceOf(AirlockError);
    await expect(attempt).rejects.toMatchObject({ code: 'InvalidConfiguration', message: expect.stringContaining(`process ${process.ppid}`) as string });
  });

  it('takes over a leftover lock of this process or of a garbled owner', async () => {
    for (const leftover of [String(process.pid), 'not a pid']) {
      await writeFile(join(dir, 'LOCK'), leftover);
      await (await lockDir(dir, 'test'))();
    }
  });
});

class Resource {
  closed = false;
  constructor(
    readonly dir: string,
    private readonly closeError?: Error,
  ) {}

  async close(): Promise<void> {
    this.closed = true;
    if (this.closeError) throw this.closeError;
  }
}

describe('createFolderRegistry', () => {
  it('shares one resource per resolved folder and closes it on the last release', async () => {
    const opened: Resource[] = [];
    const registry = createFolderRegistry(async (d) => {
      const resource = new Resource(d);
      opened.push(resource);
      return resource;
    });
    const a = await registry.acquire(dir);
    const b = await registry.acquire(join(dir, 'sub', '..'));
    expect(b.resource).toBe(a.resource);
    expect(a.resource.dir).toBe(dir);
    await a.release();
    await a.release();
    expect(a.resource.closed).toBe(false);
    await b.release();
    expect(a.resource.closed).toBe(true);
    const c = await registry.acquire(dir);
    expect(c.resource).not.toBe(a.resource);
    expect(opened).toHaveLength(2);
    await c.release();
  });

  it('does not keep a failed open', async () => {
    let attempts = 0;
    const registry = createFolderRegistry(async (d) => {
      attempts += 1;
      if (attempts === 1) throw new Error('first open fails');
      return new Resource(d);
    });
    await expect(registry.acquire(dir)).rejects.toThrow('first open fails');
    const lease = await registry.acquire(dir);
    expect(attempts).toBe(2);
    await lease.release();
  });

  it('reopens after a failed close by default, or fails with the close error when asked to', async () => {
    const failing = new Error('close failed');
    for (const reopenAfterFailedClose of [true, false]) {
      const registry = createFolderRegistry(async (d) => new Resource(d, failing), { reopenAfterFailedClose });
      const first = await registry.acquire(dir);
      const closing = first.release();
      const next = registry.acquire(dir);
      await expect(closing).rejects.toBe(failing);
      if (!reopenAfterFailedClose) await expect(next).rejects.toBe(failing);
      // Either way the close error is reported once: the acquire after it opens the folder.
      const reopened = reopenAfterFailedClose ? await next : await registry.acquire(dir);
      expect(reopened.resource).not.toBe(first.resource);
      await expect(reopened.release()).rejects.toBe(failing);
    }
  });
});
