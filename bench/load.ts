import { setTimeout as sleep } from 'node:timers/promises';

export interface LatencySummary {
  requests: number;
  errors: number;
  p50Ms: number;
  p90Ms: number;
  p99Ms: number;
  maxMs: number;
}

/**
 * Open-loop load at a fixed rate: request i is due at start + i/rate, and its latency counts from when it was due,
 * so a slow answer delays nothing else and stalls are not hidden (no coordinated omission).
 */
export async function measureAtFixedRate(call: () => Promise<unknown>, options: { ratePerSecond: number; requests: number }): Promise<LatencySummary> {
  const latencies: number[] = [];
  let errors = 0;
  const start = performance.now();
  const pending: Promise<void>[] = [];
  for (let index = 0; index < options.requests; index++) {
    const due = start + (index * 1000) / options.ratePerSecond;
    const wait = due - performance.now();
    if (wait > 1) await sleep(wait);
    pending.push(
      call().then(
        () => {
          latencies.push(performance.now() - due);
        },
        () => {
          errors++;
        },
      ),
    );
  }
  await Promise.all(pending);
  return summarize(latencies, options.requests, errors);
}

/** Percentiles of latencies measured one way or another (sorts `latencies` in place). */
export function summarize(latencies: number[], requests = latencies.length, errors = 0): LatencySummary {
  latencies.sort((a, b) => a - b);
  const at = (q: number) => round(latencies[Math.min(latencies.length - 1, Math.floor(q * latencies.length))] ?? Number.NaN);
  return { requests, errors, p50Ms: at(0.5), p90Ms: at(0.9), p99Ms: at(0.99), maxMs: at(1) };
}

function round(value: number): number {
  return Math.round(value * 1000) / 1000;
}
