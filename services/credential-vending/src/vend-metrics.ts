import { metrics } from '@airlock/telemetry';
import { toVendingError } from './errors.js';
import type { SharedSource } from './shared-cache.js';

/** One sts:AssumeRole attempt, counted by how it ended (retries are attempts of their own). */
export async function countStsCall<T>(call: () => Promise<T>): Promise<T> {
  try {
    const value = await call();
    metrics.stsCalls.inc({ outcome: 'ok' });
    return value;
  } catch (error) {
    metrics.stsCalls.inc({ outcome: stsOutcome(toVendingError(error, '').code) });
    throw error;
  }
}

/** The same classification as the error the client gets (errors.ts), so metrics and answers agree. */
function stsOutcome(code: string): string {
  if (code === 'Throttled') return 'throttled';
  if (code === 'DependencyUnavailable') return 'unavailable';
  return 'error';
}

/** A lookup in this process's cache: `shared` means another caller's value or flight served it. */
export function countMemoryLookup(shared: boolean): void {
  metrics.credentialCache.inc({ level: 'memory', result: shared ? 'hit' : 'miss' });
}

/** A lookup in the cache shared through the state store: anything but a load of our own is a hit. */
export function countSharedLookup(source: SharedSource): void {
  metrics.credentialCache.inc({ level: 'shared', result: source === 'loaded' ? 'miss' : 'hit' });
}
