import { randomBytes } from 'node:crypto';
import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { createLogger } from '@airlock/logging';
import { createEmbeddedStateStore, type StateStore } from '@airlock/state';
import { parseKeyRing } from './sealing.js';
import { createSharedCredentialCache } from './shared-cache.js';
import type { CachedCredentials } from './refresh.js';

const keys = parseKeyRing(`k1:${randomBytes(32).toString('base64')}`, 'TEST_KEY');
const secret = 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYSECRET';

function capturedLogger() {
  const destination = new PassThrough();
  const chunks: Buffer[] = [];
  destination.on('data', (chunk: Buffer) => chunks.push(chunk));
  return { logger: createLogger({ service: 'credential-vending', level: 'debug', destination }), text: () => Buffer.concat(chunks).toString() };
}

/** Credentials handed out until 5 minutes before they expire. */
const credentials = (id: string, expirationMs: number): CachedCredentials => ({
  accessKeyId: `ASIA${id}`,
  secretAccessKey: secret,
  sessionToken: `token-${id}`,
  expirationMs,
  refreshAtMs: expirationMs - 300_000,
});

function cacheOn(store: StateStore, now: () => number, logger = capturedLogger().logger) {
  return createSharedCredentialCache({ store, keys, logger, now, pollMs: { initial: 1, max: 5 }, maxWaitMs: 2_000 });
}

const cacheKey = 'role-arn|subject|issuer|session|policy|approval';

describe('shared credential cache', () => {
  it('serves another process from the store, sealed, until the entry\'s refresh time', async () => {
    const store = await createEmbeddedStateStore();
    let now = 1_000_000;
    const a = cacheOn(store, () => now);
    const b = cacheOn(store, () => now);
    let loads = 0;
    const load = async () => credentials(String(++loads), now + 900_000);
    expect(await a.get(cacheKey, load)).toMatchObject({ source: 'loaded', value: { accessKeyId: 'ASIA1' } });
    expect(await b.get(cacheKey, load)).toMatchObject({ source: 'shared', value: { accessKeyId: 'ASIA1' } });

    const raw: string[] = [];
    for await (const key of store.scan('credentials:')) raw.push(`${key}=${await store.get(key)}`);
    expect(raw).toHaveLength(1);
    // Exact values: the sealed text is random base64, which may contain any short string by chance.
    for (const plain of ['ASIA1', 'token-1', secret, cacheKey]) expect(raw.join()).not.toContain(plain);

    now += 600_000;
    expect(await b.get(cacheKey, load)).toMatchObject({ source: 'loaded', value: { accessKeyId: 'ASIA2' } });
    await store.close();
  });

  it('serves an entry whose refresh time is its end (a bound) until that end', async () => {
    const store = await createEmbeddedStateStore();
    let now = 1_000_000;
    const a = cacheOn(store, () => now);
    const b = cacheOn(store, () => now);
    let loads = 0;
    const load = async () => ({ ...credentials(String(++loads), now + 600_000), refreshAtMs: now + 600_000 });
    await a.get(cacheKey, load);
    now += 599_999;
    expect(await b.get(cacheKey, load)).toMatchObject({ source: 'shared', value: { accessKeyId: 'ASIA1' } });
    now += 1;
    expect(await b.get(cacheKey, load)).toMatchObject({ source: 'loaded', value: { accessKeyId: 'ASIA2' } });
    await store.close();
  });

  it('makes exactly one load when many processes miss at once', async () => {
    const store = await createEmbeddedStateStore();
    const caches = Array.from({ length: 8 }, () => cacheOn(store, Date.now));
    let loads = 0;
    const load = async () => {
      loads++;
      await new Promise((resolve) => setTimeout(resolve, 30));
      return credentials('X', Date.now() + 3_600_000);
    };
    const results = await Promise.all(caches.map((cache) => cache.get('key', load)));
    expect(loads).toBe(1);
    expect(results.filter((result) => result.source === 'loaded')).toHaveLength(1);
    expect(new Set(results.map((result) => result.value.accessKeyId))).toEqual(new Set(['ASIAX']));
    await store.close();
  });

  it('lets a waiting process load itself when the lock holder fails', async () => {
    const store = await createEmbeddedStateStore();
    const a = cacheOn(store, Date.now);
    const b = cacheOn(store, Date.now);
    const failing = async (): Promise<CachedCredentials> => {
      await new Promise((resolve) => setTimeout(resolve, 20));
      throw new Error('sts down');
    };
    const [first, second] = await Promise.allSettled([a.get('key', failing), b.get('key', async () => credentials('B', Date.now() + 3_600_000))]);
    expect(first.status).toBe('rejected');
    expect(second).toMatchObject({ status: 'fulfilled', value: { value: { accessKeyId: 'ASIAB' } } });
    await store.close();
  });

  it('treats entries sealed with a retired key as misses', async () => {
    const store = await createEmbeddedStateStore();
    const old = createSharedCredentialCache({
      store,
      keys: parseKeyRing(`old:${randomBytes(32).toString('base64')}`, 'TEST_KEY'),
      logger: capturedLogger().logger,
      now: Date.now,
    });
    await old.get('key', async () => credentials('OLD', Date.now() + 3_600_000));
    const current = cacheOn(store, Date.now);
    expect(await current.get('key', async () => credentials('NEW', Date.now() + 3_600_000))).toMatchObject({ source: 'loaded', value: { accessKeyId: 'ASIANEW' } });
    await store.close();
  });

  it('keeps vending when the store fails, and says so once without secrets', async () => {
    const broken: StateStore = {
      get: async () => Promise.reject(Object.assign(new Error(`redis said ${secret}`), { code: 'ECONNREFUSED' })),
      set: async () => Promise.reject(new Error('down')),
      compareAndSet: async () => false,
      delete: async () => undefined,
      increment: async () => 0,
      scan: async function* () {},
      close: async () => undefined,
    };
    const { logger, text } = capturedLogger();
    const cache = cacheOn(broken, Date.now, logger);
    for (let i = 0; i < 3; i++) {
      expect(await cache.get('key', async () => credentials('L', Date.now() + 3_600_000))).toMatchObject({ source: 'loaded' });
    }
    expect(text().match(/state store failing/g)).toHaveLength(1);
    expect(text()).not.toContain(secret);
  });
});
