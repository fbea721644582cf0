import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createEmbeddedStateStore } from './embedded-state-store.js';

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

describe('embedded state store persistence', () => {
  let dataDir = '';
  beforeEach(async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'airlock-embedded-state-'));
  });
  afterEach(async () => {
    await rm(dataDir, { recursive: true, force: true });
  });

  it('writes behind without waiting for close', async () => {
    const store = await createEmbeddedStateStore({ dataDir });
    await store.set('k', 'v');
    let saved = '';
    for (let i = 0; i < 100 && !saved.includes('"k"'); i++) {
      await sleep(20);
      saved = await readFile(join(dataDir, 'state.json'), 'utf8').catch(() => '');
    }
    expect(JSON.parse(saved)).toEqual({ version: 1, entries: [['k', 'v', null]] });
    await store.close();
  });

  it('reloads values and TTLs, dropping what expired while it was closed', async () => {
    const store = await createEmbeddedStateStore({ dataDir });
    await store.set('long', 'stays', { ttlMs: 60_000 });
    await store.set('short', 'goes', { ttlMs: 100 });
    await store.close();
    await sleep(150);
    const reopened = await createEmbeddedStateStore({ dataDir });
    expect(await reopened.get('long')).toBe('stays');
    expect(await reopened.get('short')).toBeNull();
    await reopened.close();
  });

  it('refuses an unreadable state file instead of starting empty', async () => {
    await writeFile(join(dataDir, 'state.json'), '{not json');
    await expect(createEmbeddedStateStore({ dataDir })).rejects.toMatchObject({ code: 'InvalidConfiguration' });
  });

  it('refuses a folder that another live process holds', async () => {
    await writeFile(join(dataDir, 'LOCK'), String(process.ppid));
    await expect(createEmbeddedStateStore({ dataDir })).rejects.toMatchObject({ code: 'InvalidConfiguration' });
  });
});
