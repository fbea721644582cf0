import { createRequire } from 'node:module';
import { AirlockError } from '@airlock/errors';
import type { MethodDefinition, ServiceClient } from './definition.js';
import { bindService, type ServiceBinding } from './grpc-server.js';
import type { Lifecycle, ReadinessCheck } from './runtime.js';

interface HealthCheckRequest {
  service: string;
}
type ServingStatus = 'UNKNOWN' | 'SERVING' | 'NOT_SERVING' | 'SERVICE_UNKNOWN';
interface HealthCheckResponse {
  status: ServingStatus;
}

const require = createRequire(import.meta.url);
let checkMethod: MethodDefinition<HealthCheckRequest, HealthCheckResponse> | undefined;

/**
 * grpc.health.v1.Health, Check only: what Kubernetes gRPC probes, grpc_health_probe and load balancers call. Watch
 * is not served (a probe never needs it). The method definition comes from grpc-health-check's copy of health.proto,
 * loaded on first use: that package parses the .proto when it is imported, a cost only serving processes should pay,
 * not every `airlock` command.
 */
export const HealthService = {
  get check(): MethodDefinition<HealthCheckRequest, HealthCheckResponse> {
    checkMethod ??= (require('grpc-health-check') as { service: { Check: unknown } }).service.Check as MethodDefinition<HealthCheckRequest, HealthCheckResponse>;
    return checkMethod;
  },
};

/** Asked as the `service` of a health check: Kubernetes' liveness probe names it, so a draining process stays alive. */
export const livenessServiceName = 'liveness';

/**
 * Serves the process's health: "liveness" is SERVING while it answers at all; "" (the whole server), "readiness"
 * and each name in `serviceNames` follow the lifecycle's readiness: NOT_SERVING while draining or while a dependency
 * fails its check.
 */
export function bindHealthService(lifecycle: Lifecycle, serviceNames: readonly string[]): ServiceBinding {
  const followsReadiness = new Set(['', 'readiness', ...serviceNames]);
  return bindService(HealthService, {
    async check({ service }) {
      if (service === livenessServiceName) return { status: 'SERVING' };
      if (!followsReadiness.has(service)) throw new AirlockError('NotFound', `No health status for service "${service.slice(0, 100)}".`);
      return { status: (await lifecycle.readiness()).ready ? 'SERVING' : 'NOT_SERVING' };
    },
  });
}

/** A readiness check of another process over gRPC health: it must answer SERVING. */
export function grpcReadinessCheck(name: string, client: ServiceClient<typeof HealthService>): ReadinessCheck {
  return {
    name,
    async check(signal) {
      const { status } = await client.check({ service: '' }, { signal });
      if (status !== 'SERVING') throw new Error(`${name} reports ${status}`);
    },
  };
}
