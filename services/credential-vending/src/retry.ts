export interface RetryPolicy {
  /** Calls in all, the first included. */
  attempts: number;
  /** Backoff before retry n is a random delay up to min(maxDelayMs, baseDelayMs × 2^(n-1)) ("full jitter"). */
  baseDelayMs: number;
  maxDelayMs: number;
}

export const defaultRetryPolicy: RetryPolicy = { attempts: 3, baseDelayMs: 200, maxDelayMs: 2_000 };

export interface RetryHooks {
  sleep?: (ms: number) => Promise<void>;
  random?: () => number;
  /** Called before each backoff, with the failed attempt's number (1-based) and the delay. */
  onRetry?: (error: unknown, attempt: number, delayMs: number) => void;
}

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** Runs `run` until it succeeds, fails with an error `isRetryable` refuses, or the attempts are spent. */
export async function withRetries<T>(
  run: () => Promise<T>,
  policy: RetryPolicy,
  isRetryable: (error: unknown) => boolean,
  hooks: RetryHooks = {},
): Promise<T> {
  const wait = hooks.sleep ?? sleep;
  const random = hooks.random ?? Math.random;
  for (let attempt = 1; ; attempt++) {
    try {
      return await run();
    } catch (error) {
      if (attempt >= policy.attempts || !isRetryable(error)) throw error;
      const delayMs = Math.round(random() * Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** (attempt - 1)));
      hooks.onRetry?.(error, attempt, delayMs);
      await wait(delayMs);
    }
  }
}
