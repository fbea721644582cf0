export interface CacheOptions {
  now: () => number;
  /** Upper bound on cached entries; the oldest go first. */
  maxEntries: number;
}

export interface CacheResult<V> {
  value: V;
  /** True when no load ran for this caller: a cached entry, or a load another caller had already started. */
  shared: boolean;
}

/** A cached value says itself until when it is handed out: vending refreshes credentials ahead of their expiry. */
export interface Refreshable {
  refreshAtMs: number;
}

export interface ExpiringCache<V extends Refreshable> {
  /** The fresh entry for `key`, or the result of one `load` shared by every concurrent caller of that key. */
  get(key: string, load: () => Promise<V>): Promise<CacheResult<V>>;
  clear(): void;
}

/**
 * An in-process cache with refresh ahead of expiry and single flight: concurrent misses of one key share one load,
 * so a burst of identical requests costs one STS call. Failed loads are not cached; the next caller tries again.
 */
export function createExpiringCache<V extends Refreshable>(options: CacheOptions): ExpiringCache<V> {
  const entries = new Map<string, V>();
  const flights = new Map<string, Promise<V>>();

  const isFresh = (value: V) => options.now() < value.refreshAtMs;

  function store(key: string, value: V) {
    entries.delete(key);
    entries.set(key, value);
    if (entries.size <= options.maxEntries) return;
    // Expired entries go first; then the oldest inserted (Map keeps insertion order).
    for (const [candidate, entry] of entries) if (!isFresh(entry)) entries.delete(candidate);
    for (const candidate of entries.keys()) {
      if (entries.size <= options.maxEntries) break;
      entries.delete(candidate);
    }
  }

  return {
    async get(key, load) {
      const cached = entries.get(key);
      if (cached && isFresh(cached)) return { value: cached, shared: true };
      const running = flights.get(key);
      if (running) return { value: await running, shared: true };
      // `load` starts on a later tick, so even a synchronous throw settles this flight after it is registered.
      const flight = Promise.resolve()
        .then(load)
        .then(
          (value) => {
            flights.delete(key);
            store(key, value);
            return value;
          },
          (error: unknown) => {
            flights.delete(key);
            throw error;
          },
        );
      flights.set(key, flight);
      return { value: await flight, shared: false };
    },
    clear() {
      entries.clear();
    },
  };
}
