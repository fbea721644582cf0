import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AirlockError } from '@airlock/errors';
import { createEmbeddedStateStore, createRedisStateStore, type StateStore } from '@airlock/state';
import { freePort, startRedis, type Peer } from '../support/peers.js';
import { folderDriver, useDriver, type ContractDriver } from './contract-harness.js';

type StateDriver = ContractDriver<StateStore>;

function redisDriver(): StateDriver {
  let peer: Peer | undefined;
  return {
    name: 'redis',
    async setup() {
      peer = await startRedis();
    },
    open: () => createRedisStateStore({ url: peer?.url ?? '', keyPrefix: 'contract:' }),
    async teardown() {
      await peer?.stop();
    },
  };
}

function embeddedDriver(): StateDriver {
  return folderDriver('embedded', 'airlock-state-embedded-', (dataDir) => createEmbeddedStateStore({ dataDir }));
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** Waits for a condition without asserting how fast it happens. */
async function eventually(check: () => Promise<boolean>, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await sleep(50);
  }
}

async function all(iterable: AsyncIterable<string>): Promise<string[]> {
  const out: string[] = [];
  for await (const item of iterable) out.push(item);
  return out.sort();
}

describe.each([redisDriver(), embeddedDriver()])('StateStore contract: $name', (driver) => {
  const { client } = useDriver(driver);
  let n = 0;
  /** Each test gets its own key space. */
  const ns = (): string => `t${++n}:`;

  it('gets null for a missing key, and what was set otherwise', async () => {
    const store = await client();
    const k = ns();
    expect(await store.get(`${k}missing`)).toBeNull();
    expect(await store.set(`${k}a`, 'one')).toBe(true);
    expect(await store.get(`${k}a`)).toBe('one');
    expect(await store.set(`${k}a`, 'two')).toBe(true);
    expect(await store.get(`${k}a`)).toBe('two');
    expect(await store.set(`${k}empty`, '')).toBe(true);
    expect(await store.get(`${k}empty`)).toBe('');
  });

  it('sets onlyIfAbsent once', async () => {
    const store = await client();
    const k = ns();
    expect(await store.set(`${k}lock`, 'first', { onlyIfAbsent: true })).toBe(true);
    expect(await store.set(`${k}lock`, 'second', { onlyIfAbsent: true })).toBe(false);
    expect(await store.get(`${k}lock`)).toBe('first');
  });

  it('expires values after their TTL, and a later set without TTL keeps the value', async () => {
    const store = await client();
    const k = ns();
    await store.set(`${k}short`, 'v', { ttlMs: 200 });
    await store.set(`${k}kept`, 'v', { ttlMs: 200 });
    await store.set(`${k}kept`, 'forever');
    await eventually(async () => (await store.get(`${k}short`)) === null);
    expect(await all(store.scan(k))).toEqual([`${k}kept`]);
    expect(await store.set(`${k}short`, 'again', { onlyIfAbsent: true })).toBe(true);
    await sleep(300);
    expect(await store.get(`${k}kept`)).toBe('forever');
  });

  it('compares and sets', async () => {
    const store = await client();
    const k = ns();
    expect(await store.compareAndSet(`${k}c`, null, 'v1')).toBe(true);
    expect(await store.compareAndSet(`${k}c`, null, 'other')).toBe(false);
    expect(await store.compareAndSet(`${k}c`, 'wrong', 'other')).toBe(false);
    expect(await store.get(`${k}c`)).toBe('v1');
    expect(await store.compareAndSet(`${k}c`, 'v1', 'v2')).toBe(true);
    expect(await store.get(`${k}c`)).toBe('v2');
    expect(await store.compareAndSet(`${k}ttl`, null, 'brief', { ttlMs: 200 })).toBe(true);
    await eventually(async () => (await store.get(`${k}ttl`)) === null);
  });

  it('lets exactly one of many concurrent compareAndSets with the same expectation win', async () => {
    const store = await client();
    const other = await client();
    const k = ns();
    await store.set(`${k}state`, 'pending');
    const attempts = Array.from({ length: 20 }, (_, i) =>
      (i % 2 === 0 ? store : other).compareAndSet(`${k}state`, 'pending', `decided-by-${i}`),
    );
    const results = await Promise.all(attempts);
    expect(results.filter(Boolean)).toHaveLength(1);
    const winner = results.indexOf(true);
    expect(await store.get(`${k}state`)).toBe(`decided-by-${winner}`);

    const creations = await Promise.all(Array.from({ length: 10 }, (_, i) => other.compareAndSet(`${k}new`, null, `c${i}`)));
    expect(creations.filter(Boolean)).toHaveLength(1);
  });

  it('deletes', async () => {
    const store = await client();
    const k = ns();
    await store.set(`${k}d`, 'x');
    await store.delete(`${k}d`);
    await store.delete(`${k}never`);
    expect(await store.get(`${k}d`)).toBeNull();
  });

  it('increments atomically, with a fixed TTL window, and refuses non-integers', async () => {
    const store = await client();
    const other = await client();
    const k = ns();
    expect(await store.increment(`${k}n`)).toBe(1);
    expect(await store.increment(`${k}n`)).toBe(2);
    const results = await Promise.all(Array.from({ length: 40 }, (_, i) => (i % 2 ? store : other).increment(`${k}many`)));
    expect([...results].sort((a, b) => a - b)).toEqual(Array.from({ length: 40 }, (_, i) => i + 1));

    expect(await store.increment(`${k}window`, { ttlMs: 300 })).toBe(1);
    expect(await store.increment(`${k}window`, { ttlMs: 300 })).toBe(2);
    await eventually(async () => (await store.get(`${k}window`)) === null);
    expect(await store.increment(`${k}window`, { ttlMs: 300 })).toBe(1);

    await store.set(`${k}text`, 'abc');
    await expect(store.increment(`${k}text`)).rejects.toMatchObject({ name: 'AirlockError', code: 'InvalidRequest' });
  });

  it('scans keys by prefix, treating glob characters literally', async () => {
    const store = await client();
    const k = ns();
    for (const key of ['approval:1', 'approval:2', 'approvals', 'grant:1', 'a*pproval:3', 'a?x']) await store.set(`${k}${key}`, 'v');
    expect(await all(store.scan(`${k}approval:`))).toEqual([`${k}approval:1`, `${k}approval:2`]);
    expect(await all(store.scan(`${k}a*`))).toEqual([`${k}a*pproval:3`]);
    expect(await all(store.scan(`${k}a?`))).toEqual([`${k}a?x`]);
    expect(await all(store.scan(`${k}nothing`))).toEqual([]);
    expect(await all(store.scan(k))).toHaveLength(6);
  });

  it('keeps values across a closed client and a new one', async () => {
    const store = await client();
    const k = ns();
    await store.set(`${k}durable`, 'kept');
    await store.set(`${k}expiring`, 'kept too', { ttlMs: 60_000 });
    await store.increment(`${k}count`);
    await store.close();
    const next = await client();
    expect(await next.get(`${k}durable`)).toBe('kept');
    expect(await next.get(`${k}expiring`)).toBe('kept too');
    expect(await next.increment(`${k}count`)).toBe(2);
  });

  it('refuses work after close', async () => {
    const store = await client();
    await store.close();
    await store.close();
    await expect(store.get('x')).rejects.toMatchObject({ code: 'DependencyUnavailable' });
  });
});

describe('Redis state store', () => {
  let peer: Peer;
  beforeAll(async () => {
    peer = await startRedis();
  });
  afterAll(async () => {
    await peer.stop();
  });

  it('keeps key prefixes apart and strips them from scan results', async () => {
    const a = await createRedisStateStore({ url: peer.url, keyPrefix: 'tenant-a:' });
    const b = await createRedisStateStore({ url: peer.url, keyPrefix: 'tenant-b:' });
    try {
      await a.set('k', 'from a');
      expect(await b.get('k')).toBeNull();
      expect(await all(a.scan(''))).toEqual(['k']);
    } finally {
      await a.close();
      await b.close();
    }
  });

  it('fails fast with DependencyUnavailable when nothing listens at the URL', async () => {
    const port = await freePort();
    const started = Date.now();
    const error = await createRedisStateStore({ url: `redis://:secret@127.0.0.1:${port}` }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(AirlockError);
    expect(error).toMatchObject({ code: 'DependencyUnavailable' });
    expect((error as Error).message).toContain(`127.0.0.1:${port}`);
    expect((error as Error).message).not.toContain('secret');
    expect(Date.now() - started).toBeLessThan(10_000);
  });

  it('fails commands fast while the server is gone, instead of queueing them', async () => {
    const own = await startRedis();
    const store = await createRedisStateStore({ url: own.url });
    try {
      await store.set('k', 'v');
      await own.stop();
      const started = Date.now();
      await expect(store.get('k')).rejects.toMatchObject({ code: 'DependencyUnavailable' });
      expect(Date.now() - started).toBeLessThan(10_000);
    } finally {
      await store.close();
      await own.stop();
    }
  });
});

describe('Embedded state store', () => {
  it('works in memory without a folder, each store on its own', async () => {
    const a = await createEmbeddedStateStore();
    const b = await createEmbeddedStateStore({});
    await a.set('k', 'v');
    expect(await b.get('k')).toBeNull();
    await a.close();
    await b.close();
  });
});
