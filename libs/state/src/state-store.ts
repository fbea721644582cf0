/**
 * Small shared state: approvals, counters, caches. Keys are plain strings; a store may add its own prefix.
 * Both drivers (Redis and the embedded one) implement exactly these semantics and pass one contract suite.
 */
export interface SetOptions {
  /** The value expires after this many milliseconds; without it the value does not expire (any old TTL is cleared). */
  ttlMs?: number;
  /** Write only when the key does not exist; then `set` resolves false if it did. */
  onlyIfAbsent?: boolean;
}

export interface IncrementOptions {
  /** Applied when the counter has no expiry yet (so on its first increment): a fixed window, not a sliding one. */
  ttlMs?: number;
}

export interface StateStore {
  get(key: string): Promise<string | null>;
  /** False only when `onlyIfAbsent` is set and the key exists. */
  set(key: string, value: string, options?: SetOptions): Promise<boolean>;
  /** Atomic: writes `value` only if the current value is `expected` (null: only if absent). The TTL works as in `set`. */
  compareAndSet(key: string, expected: string | null, value: string, options?: { ttlMs?: number }): Promise<boolean>;
  delete(key: string): Promise<void>;
  /** Adds one to an integer value (a missing key counts as 0) and returns the result. */
  increment(key: string, options?: IncrementOptions): Promise<number>;
  /** Keys starting with `prefix`, each once, in no particular order. */
  scan(prefix: string): AsyncIterable<string>;
  close(): Promise<void>;
}
