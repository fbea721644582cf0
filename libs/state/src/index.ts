export type { IncrementOptions, SetOptions, StateStore } from './state-store.js';
export { createRedisStateStore, type RedisStateStoreOptions } from './redis-state-store.js';
export { createEmbeddedStateStore, type EmbeddedStateStoreOptions } from './embedded-state-store.js';
