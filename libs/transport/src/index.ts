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
export { mutualTlsChannelCredentials, mutualTlsServerCredentials } from './grpc-tls.js';
export type { ChannelCredentials, ServerCredentials } from '@grpc/grpc-js';
export { watchTlsFiles, type TlsFiles, type TlsMaterial, type WatchedTlsFiles } from './tls-files.js';
export { bindHealthService, grpcReadinessCheck, HealthService, livenessServiceName } from './health.js';
export { createLifecycle, type Lifecycle, type LifecycleOptions, type LifecycleState, type ReadinessCheck, type ReadinessReport, type ServiceRuntime } from './runtime.js';
