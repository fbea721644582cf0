export interface BackoffOptions {
  /** First delay after a failure. @default 500 */
  initialDelayMs?: number;
  /** Longest delay, reached by doubling. @default 30000 */
  maxDelayMs?: number;
}

/** Doubling delays while failures continue; back to the start after a success. */
export function createBackoff(options: BackoffOptions = {}) {
  const initial = options.initialDelayMs ?? 500;
  const max = Math.max(initial, options.maxDelayMs ?? 30_000);
  let failures = 0;
  return {
    /** Counts a failure and returns how long to wait before trying again. */
    next(): number {
      const delay = Math.min(max, initial * 2 ** Math.min(failures, 30));
      failures++;
      return delay;
    },
    reset(): void {
      failures = 0;
    },
  };
}
