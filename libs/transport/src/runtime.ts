import type { ServiceDefinition, ServiceImplementation } from './definition.js';

/**
 * One service as the launcher sees it: the contract it serves, its implementation, and its lifecycle.
 * The same object is bound in process (embedded mode) or served over gRPC (distributed mode).
 */
export interface ServiceRuntime<D extends ServiceDefinition = ServiceDefinition> {
  /** Human name, e.g. "policy". */
  readonly name: string;
  readonly definition: D;
  readonly implementation: ServiceImplementation<D>;
  /** Starts background work (consumers, reloaders); resolves once it is running. */
  start?(): Promise<void>;
  /** Stops background work and releases connections; in-flight calls are finished or failed. */
  close(): Promise<void>;
}

/** One dependency a process needs to serve: `check` rejects, with the reason, while it cannot be reached. */
export interface ReadinessCheck {
  /** What is checked, as operators know it: "state", "policy". */
  readonly name: string;
  check(signal: AbortSignal): Promise<void>;
}

/** running → draining → (the process exits). A draining process finishes what it took and takes nothing new. */
export type LifecycleState = 'running' | 'draining';

export interface ReadinessReport {
  readonly ready: boolean;
  readonly state: LifecycleState;
  /** The dependencies that failed their check, with why; never a secret (messages come from our own errors). */
  readonly failing: readonly { name: string; reason: string }[];
}

export interface Lifecycle {
  readonly state: LifecycleState;
  /** Not ready while draining or while any check fails. Results are kept for `cacheMs`, so probes cost little. */
  readiness(): Promise<ReadinessReport>;
  /** From now on the process reports not ready, so load balancers and Kubernetes stop sending it work. */
  drain(): void;
}

export interface LifecycleOptions {
  /** How long one readiness answer is reused. @default 1000 */
  cacheMs?: number;
  /** A check that has not answered by then fails. @default 2000 */
  timeoutMs?: number;
  now?: () => number;
}

/**
 * Readiness and drain state of one process. Liveness is not here: a process that can answer at all is alive, and a
 * draining process must stay alive until its in-flight calls are done.
 */
export function createLifecycle(checks: readonly ReadinessCheck[], options: LifecycleOptions = {}): Lifecycle {
  const cacheMs = options.cacheMs ?? 1_000;
  const timeoutMs = options.timeoutMs ?? 2_000;
  const now = options.now ?? Date.now;
  let state: LifecycleState = 'running';
  let cached: { at: number; report: Promise<ReadinessReport> } | undefined;
  const evaluate = async (): Promise<ReadinessReport> => {
    const results = await Promise.all(
      checks.map(async ({ name, check }) => {
        const signal = AbortSignal.timeout(timeoutMs);
        try {
          // A check that ignores its signal (a store queueing commands while offline) still fails in time.
          await Promise.race([
            check(signal),
            new Promise<never>((_, reject) => signal.addEventListener('abort', () => reject(new Error(`no answer within ${timeoutMs} ms`)), { once: true })),
          ]);
          return undefined;
        } catch (error) {
          return { name, reason: error instanceof Error ? error.message : String(error) };
        }
      }),
    );
    const failing = results.filter((result) => result !== undefined);
    return { ready: state === 'running' && failing.length === 0, state, failing };
  };
  return {
    get state() {
      return state;
    },
    readiness() {
      if (state === 'draining') return Promise.resolve({ ready: false, state, failing: [] });
      // One evaluation at a time, shared by concurrent probes (single flight), reused for cacheMs.
      if (!cached || now() - cached.at >= cacheMs) cached = { at: now(), report: evaluate() };
      return cached.report;
    },
    drain() {
      state = 'draining';
    },
  };
}
