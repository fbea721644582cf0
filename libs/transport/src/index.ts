export type {
  CallContext,
  CallOptions,
  MethodDefinition,
  ServiceClient,
  ServiceDefinition,
  ServiceImplementation,
} from './definition.js';
export { bindInProcess } from './in-process.js';
export { createGrpcClient, type ClosableClient, type GrpcClientOptions } from './grpc-client.js';
export { bindService, startGrpcServer, type GrpcServerOptions, type RunningGrpcServer, type ServiceBinding } from './grpc-server.js';
export { fromServiceError, toServiceError } from './status.js';
export type { ServiceRuntime } from './runtime.js';
