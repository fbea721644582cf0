import { describe, expect, it } from 'vitest';
import { createExpiringCache } from './cache.js';

interface Entry {
  id: number;
  refreshAtMs: number;
}

function deferred<T>() {
  let resolve!: (value: T) => void;
  let reject!: (error: unknown) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

describe('createExpiringCache', () => {
  it('reuses an entry until its refresh time, then loads again', async () => {
    let now = 0;
    let loads = 0;
    const cache = createExpiringCache<Entry>({ now: () => now, maxEntries: 10 });
    const load = async () => ({ id: ++loads, refreshAtMs: now + 600_000 });

    expect((await cache.get('k', load)).value.id).toBe(1);
    now = 599_999;
    expect(await cache.get('k', load)).toEqual({ value: { id: 1, refreshAtMs: 600_000 }, shared: true });
    now = 600_000;
    expect(await cache.get('k', load)).toMatchObject({ value: { id: 2 }, shared: false });
  });

  it('shares one load among concurrent callers of a key', async () => {
    const cache = createExpiringCache<Entry>({ now: () => 0, maxEntries: 10 });
    const pending = deferred<Entry>();
    let loads = 0;
    const load = () => {
      loads++;
      return pending.promise;
    };
    const results = Promise.all([cache.get('k', load), cache.get('k', load), cache.get('k', load)]);
    pending.resolve({ id: 7, refreshAtMs: 1_000 });
    const values = await results;
    expect(loads).toBe(1);
    expect(values.map((result) => result.value.id)).toEqual([7, 7, 7]);
    expect(values.map((result) => result.shared)).toEqual([false, true, true]);
  });

  it('keeps keys apart', async () => {
    const cache = createExpiringCache<Entry>({ now: () => 0, maxEntries: 10 });
    let loads = 0;
    const load = async () => ({ id: ++loads, refreshAtMs: 1_000 });
    expect((await cache.get('a', load)).value.id).toBe(1);
    expect((await cache.get('b', load)).value.id).toBe(2);
  });

  it('does not cache failures, even synchronous ones', async () => {
    const cache = createExpiringCache<Entry>({ now: () => 0, maxEntries: 10 });
    const failing = (): Promise<Entry> => {
      throw new Error('sts down');
    };
    await expect(cache.get('k', failing)).rejects.toThrow('sts down');
    await expect(cache.get('k', async () => ({ id: 2, refreshAtMs: 1_000 }))).resolves.toMatchObject({ value: { id: 2 } });
  });

  it('evicts the oldest entries beyond its bound', async () => {
    const cache = createExpiringCache<Entry>({ now: () => 0, maxEntries: 2 });
    let loads = 0;
    const load = async () => ({ id: ++loads, refreshAtMs: 1_000 });
    await cache.get('a', load);
    await cache.get('b', load);
    await cache.get('c', load);
    expect((await cache.get('b', load)).value.id).toBe(2);
    expect((await cache.get('a', load)).value.id).toBe(4);
  });
});
