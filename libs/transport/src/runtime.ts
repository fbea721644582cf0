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
