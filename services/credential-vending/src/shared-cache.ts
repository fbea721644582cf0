import { createHash, randomUUID } from 'node:crypto';
import type { Logger } from '@airlock/logging';
import type { StateStore } from '@airlock/state';
import { sleep as realSleep } from './retry.js';
import type { KeyRing } from './sealing.js';
import type { CachedCredentials } from './refresh.js';

export interface SharedCacheOptions {
  store: StateStore;
  keys: KeyRing;
  logger: Logger;
  now: () => number;
  /** How long one process may hold the right to call STS for a key before others may take it. @default 15000 */
  lockTtlMs?: number;
  /** How long a process waits for another's STS call before making its own. @default 15000 */
  maxWaitMs?: number;
  /** First and longest pause between looks at the store while waiting. @default 10, 200 */
  pollMs?: { initial: number; max: number };
  sleep?: (ms: number) => Promise<void>;
  /** @default 'credentials:' */
  prefix?: string;
}

export type SharedSource = 'shared' | 'waited' | 'loaded';

export interface SharedCredentialCache {
  /**
   * Credentials for `key` from the store, or from one `load` among all processes sharing it: the process that takes
   * a short lock in the store loads and writes them, the others poll the store until they appear.
   */
  get(key: string, load: () => Promise<CachedCredentials>): Promise<{ value: CachedCredentials; source: SharedSource }>;
}

/**
 * The second-level credential cache, shared by all edges through the state store (Redis when distributed). Values
 * are sealed with AES-256-GCM (see sealing.ts) and keys are hashes, so the store holds no credential, subject or role
 * in the clear. The store is a cache: when it fails, vending goes on with the in-process cache and STS, and says so
 * once in the log until the store answers again.
 */
export function createSharedCredentialCache(options: SharedCacheOptions): SharedCredentialCache {
  const { store, keys, logger, now } = options;
  const prefix = options.prefix ?? 'credentials:';
  const lockTtlMs = options.lockTtlMs ?? 15_000;
  const maxWaitMs = options.maxWaitMs ?? 15_000;
  const poll = options.pollMs ?? { initial: 10, max: 200 };
  const sleep = options.sleep ?? realSleep;
  let storeFailing = false;

  async function guarded<T>(operation: string, run: () => Promise<T>): Promise<T | undefined> {
    try {
      const result = await run();
      if (storeFailing) {
        storeFailing = false;
        logger.info('shared credential cache: state store answers again');
      }
      return result;
    } catch (error) {
      if (!storeFailing) {
        storeFailing = true;
        // The error's name and code only: a driver error could echo a value.
        const { name, code } = (error ?? {}) as { name?: string; code?: string };
        logger.warn({ operation, error: name, code }, 'shared credential cache: state store failing; using the in-process cache only');
      }
      return undefined;
    }
  }

  async function read(valueKey: string): Promise<CachedCredentials | undefined> {
    const sealed = await guarded('get', () => store.get(valueKey));
    if (!sealed) return undefined;
    const plaintext = keys.open(sealed, valueKey);
    if (plaintext === undefined) {
      // Sealed with a key no longer in the ring (rotation), or altered: a miss, overwritten by the next load.
      logger.debug('shared credential cache: entry does not open with the configured keys');
      return undefined;
    }
    const value = parseCredentials(plaintext);
    return value && now() < value.refreshAtMs ? value : undefined;
  }

  async function write(valueKey: string, value: CachedCredentials): Promise<void> {
    const ttlMs = value.refreshAtMs - now();
    if (ttlMs <= 0) return;
    await guarded('set', () => store.set(valueKey, keys.seal(JSON.stringify(value), valueKey), { ttlMs }));
  }

  async function release(lockKey: string, token: string): Promise<void> {
    // Only our own lock: if it expired and another process took it, that one still holds it.
    if ((await guarded('get', () => store.get(lockKey))) === token) await guarded('delete', () => store.delete(lockKey));
  }

  return {
    async get(key, load) {
      const id = createHash('sha256').update(key).digest('base64url');
      const valueKey = `${prefix}v1:${id}`;
      const lockKey = `${prefix}lock:${id}`;
      const cached = await read(valueKey);
      if (cached) return { value: cached, source: 'shared' };

      let waitedMs = 0;
      let delay = poll.initial;
      for (;;) {
        const token = randomUUID();
        const acquired = await guarded('lock', () => store.set(lockKey, token, { ttlMs: lockTtlMs, onlyIfAbsent: true }));
        if (acquired === undefined) return { value: await load(), source: 'loaded' };
        if (acquired) {
          try {
            // Another process may have written the entry between our look and our lock.
            const written = await read(valueKey);
            if (written) return { value: written, source: 'waited' };
            const value = await load();
            await write(valueKey, value);
            return { value, source: 'loaded' };
          } finally {
            await release(lockKey, token);
          }
        }
        if (waitedMs >= maxWaitMs) {
          logger.warn({ waitedMs }, 'shared credential cache: gave up waiting for another process; calling STS');
          return { value: await load(), source: 'loaded' };
        }
        await sleep(delay);
        waitedMs += delay;
        delay = Math.min(delay * 2, poll.max);
        const arrived = await read(valueKey);
        if (arrived) return { value: arrived, source: 'waited' };
        // Still missing: either the holder is still at STS or it failed and let go; the next round tells.
      }
    },
  };
}

function parseCredentials(text: string): CachedCredentials | undefined {
  try {
    const value = JSON.parse(text) as Partial<CachedCredentials>;
    if (
      typeof value.accessKeyId === 'string' &&
      typeof value.secretAccessKey === 'string' &&
      typeof value.sessionToken === 'string' &&
      typeof value.expirationMs === 'number' &&
      typeof value.refreshAtMs === 'number'
    ) {
      const { accessKeyId, secretAccessKey, sessionToken, expirationMs, refreshAtMs } = value;
      return { accessKeyId, secretAccessKey, sessionToken, expirationMs, refreshAtMs: Math.min(refreshAtMs, expirationMs) };
    }
  } catch {
    // fall through: not ours
  }
  return undefined;
}
