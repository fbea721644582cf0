import { PolicyServiceService } from '@airlock/contracts';
import { createPolicyService, type PolicyServiceOptions, type PolicyServiceRuntime } from '@airlock/policy';
import { bindService, createGrpcClient, startGrpcServer, type ServiceClient } from '@airlock/transport';

export interface ServedPolicy {
  service: PolicyServiceRuntime;
  /** A gRPC client of it on loopback, as a distributed edge reaches the policy service. */
  client: ServiceClient<typeof PolicyServiceService>;
  close(): Promise<void>;
}

/** The policy service on its own, started (watching its files unless told not to) and served over gRPC on a free port. */
export async function servePolicy(options: PolicyServiceOptions): Promise<ServedPolicy> {
  const service = await createPolicyService(options);
  await service.start?.();
  const server = await startGrpcServer({ listen: '127.0.0.1:0', services: [bindService(service.definition, service.implementation)] });
  const grpc = createGrpcClient(PolicyServiceService, { address: `127.0.0.1:${server.port}`, serviceName: 'policy' });
  return {
    service,
    client: grpc.client,
    async close() {
      grpc.close();
      await server.close();
      await service.close();
    },
  };
}
