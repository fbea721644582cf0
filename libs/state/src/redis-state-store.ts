import { createHash } from 'node:crypto';
import { Redis } from 'ioredis';
import { AirlockError } from '@airlock/errors';
import { COMPARE_AND_SET, INCREMENT } from './redis-scripts.js';
import { describeRedis, fromRedisError } from './redis-errors.js';
import type { IncrementOptions, SetOptions, StateStore } from './state-store.js';
import { ttlOf, validateKey, validateValue } from './validate.js';

export interface RedisStateStoreOptions {
  url: string;
  /** Prepended to every key; scan results come back without it. */
  keyPrefix?: string;
}

const CONNECT_TIMEOUT_MS = 5_000;
const COMMAND_TIMEOUT_MS = 5_000;

/**
 * Commands fail at once while Redis is unreachable (no offline queue, one retry) so that callers fail closed
 * instead of hanging; the client keeps reconnecting in the background and recovers by itself.
 */
export async function createRedisStateStore(options: RedisStateStoreOptions): Promise<StateStore> {
  const target = describeRedis(options.url);
  let lastError: unknown;
  const redis = new Redis(options.url, {
    lazyConnect: true,
    enableOfflineQueue: false,
    maxRetriesPerRequest: 1,
    connectTimeout: CONNECT_TIMEOUT_MS,
    commandTimeout: COMMAND_TIMEOUT_MS,
    retryStrategy: (attempt) => Math.min(attempt * 200, 2_000),
    connectionName: 'airlock',
  });
  // Without a listener ioredis stays silent; with one we keep the real cause (ECONNREFUSED, ...) for the error.
  redis.on('error', (error: unknown) => {
    lastError = error;
  });
  try {
    await redis.connect();
  } catch (error) {
    redis.disconnect();
    throw new AirlockError('DependencyUnavailable', `Redis at ${target} is unreachable.`, { cause: lastError ?? error });
  }
  return new RedisStateStore(redis, target, options.keyPrefix ?? '');
}

class RedisStateStore implements StateStore {
  private closing: Promise<void> | undefined;

  constructor(
    private readonly redis: Redis,
    private readonly target: string,
    private readonly prefix: string,
  ) {}

  async get(key: string): Promise<string | null> {
    validateKey(key);
    return this.run('get', () => this.redis.get(this.prefix + key));
  }

  async set(key: string, value: string, options: SetOptions = {}): Promise<boolean> {
    validateKey(key);
    validateValue(value);
    const ttl = ttlOf(options.ttlMs);
    const k = this.prefix + key;
    const reply = await this.run('set', () => {
      if (ttl !== undefined && options.onlyIfAbsent) return this.redis.set(k, value, 'PX', ttl, 'NX');
      if (ttl !== undefined) return this.redis.set(k, value, 'PX', ttl);
      if (options.onlyIfAbsent) return this.redis.set(k, value, 'NX');
      return this.redis.set(k, value);
    });
    return reply === 'OK';
  }

  async compareAndSet(key: string, expected: string | null, value: string, options: { ttlMs?: number } = {}): Promise<boolean> {
    validateKey(key);
    validateValue(value);
    if (expected !== null) validateValue(expected);
    const ttl = ttlOf(options.ttlMs);
    const reply = await this.script('compareAndSet', COMPARE_AND_SET, key, [
      expected === null ? '1' : '0',
      expected ?? '',
      value,
      ttl === undefined ? '' : String(ttl),
    ]);
    return reply === 1;
  }

  async delete(key: string): Promise<void> {
    validateKey(key);
    await this.run('delete', () => this.redis.del(this.prefix + key));
  }

  async increment(key: string, options: IncrementOptions = {}): Promise<number> {
    validateKey(key);
    const ttl = ttlOf(options.ttlMs);
    const reply = await this.script('increment', INCREMENT, key, [ttl === undefined ? '' : String(ttl)]);
    return Number(reply);
  }

  async *scan(prefix: string): AsyncIterable<string> {
    const pattern = `${escapeGlob(this.prefix + prefix)}*`;
    // SCAN may return a key more than once while the keyspace is rehashed.
    const seen = new Set<string>();
    let cursor = '0';
    do {
      const [next, keys] = await this.run('scan', () => this.redis.scan(cursor, 'MATCH', pattern, 'COUNT', 250));
      cursor = next;
      for (const key of keys) {
        if (seen.has(key)) continue;
        seen.add(key);
        yield key.slice(this.prefix.length);
      }
    } while (cursor !== '0');
  }

  close(): Promise<void> {
    this.closing ??= (async () => {
      try {
        await this.redis.quit();
      } catch {
        this.redis.disconnect();
      }
    })();
    return this.closing;
  }

  private async run<T>(action: string, command: () => Promise<T>): Promise<T> {
    if (this.closing) throw new AirlockError('DependencyUnavailable', `The Redis state store for ${this.target} is closed.`);
    try {
      return await command();
    } catch (error) {
      throw fromRedisError(error, this.target, action);
    }
  }

  /** EVALSHA first; the script text goes over the wire only when Redis has not cached it yet. */
  private async script(action: string, source: string, key: string, args: string[]): Promise<unknown> {
    const sha = sha1(source);
    return this.run(action, async () => {
      try {
        return await this.redis.evalsha(sha, 1, this.prefix + key, ...args);
      } catch (error) {
        if (!(error instanceof Error) || !error.message.startsWith('NOSCRIPT')) throw error;
        return this.redis.eval(source, 1, this.prefix + key, ...args);
      }
    });
  }
}

const sha1s = new Map<string, string>();
function sha1(source: string): string {
  let sha = sha1s.get(source);
  if (!sha) {
    sha = createHash('sha1').update(source).digest('hex');
    sha1s.set(source, sha);
  }
  return sha;
}

function escapeGlob(text: string): string {
  return text.replace(/[*?[\]\\]/g, (c) => `\\${c}`);
}
