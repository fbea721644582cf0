import { once } from 'node:events';
import {
  Server,
  ServerCredentials,
  type Metadata,
  type ServerDuplexStream,
  type ServerUnaryCall,
  type sendUnaryData,
  type UntypedServiceImplementation,
} from '@grpc/grpc-js';
import {
  methodKind,
  type CallContext,
  type ServiceDefinition,
  type ServiceImplementation,
} from './definition.js';
import { observeServerCall } from './observe.js';
import { toServiceError } from './status.js';

export interface ServiceBinding<D extends ServiceDefinition = ServiceDefinition> {
  definition: D;
  implementation: ServiceImplementation<D>;
}

export interface GrpcServerOptions {
  /** host:port; port 0 picks a free one. */
  listen: string;
  services: ServiceBinding[];
  /** mTLS from watched files (mutualTlsServerCredentials); plaintext when absent. */
  credentials?: ServerCredentials;
}

export interface RunningGrpcServer {
  /** The port actually bound. */
  readonly port: number;
  /** Stops accepting calls, lets in-flight ones finish for `graceMs`, then cancels the rest. */
  close(graceMs?: number): Promise<void>;
}

/** Binds a service implementation to a generic service definition. */
export function bindService<D extends ServiceDefinition>(definition: D, implementation: ServiceImplementation<D>): ServiceBinding {
  return { definition, implementation } as ServiceBinding;
}

export async function startGrpcServer(options: GrpcServerOptions): Promise<RunningGrpcServer> {
  const server = new Server({ 'grpc.max_receive_message_length': 8 * 1024 * 1024 });
  for (const { definition, implementation } of options.services) {
    server.addService(definition as never, toGrpcHandlers(definition, implementation));
  }
  const port = await new Promise<number>((resolve, reject) => {
    server.bindAsync(options.listen, options.credentials ?? ServerCredentials.createInsecure(), (error, boundPort) =>
      error ? reject(error) : resolve(boundPort),
    );
  });
  return {
    port,
    close: (graceMs = 5_000) =>
      new Promise<void>((resolve) => {
        const force = setTimeout(() => {
          server.forceShutdown();
          resolve();
        }, graceMs);
        server.tryShutdown(() => {
          clearTimeout(force);
          resolve();
        });
      }),
  };
}

type AnyHandler = (input: unknown, context: CallContext) => unknown;

function toGrpcHandlers(definition: ServiceDefinition, implementation: ServiceImplementation<ServiceDefinition>) {
  const handlers: UntypedServiceImplementation = {};
  for (const [name, method] of Object.entries(definition)) {
    const handler = (implementation as Record<string, AnyHandler>)[name];
    if (!handler) throw new Error(`${method.path} has no implementation`);
    const path = method.path.slice(1);
    handlers[name] = methodKind(method) === 'unary' ? unaryHandler(path, handler) : bidiHandler(path, handler);
  }
  return handlers;
}

function contextOf(call: { metadata: Metadata; on(event: 'cancelled', listener: () => void): unknown }): CallContext {
  const controller = new AbortController();
  call.on('cancelled', () => controller.abort());
  const metadata: Record<string, string> = {};
  for (const [key, value] of Object.entries(call.metadata.getMap())) {
    if (typeof value === 'string') metadata[key] = value;
  }
  return { signal: controller.signal, metadata };
}

function unaryHandler(path: string, handler: AnyHandler) {
  return (call: ServerUnaryCall<unknown, unknown>, callback: sendUnaryData<unknown>) => {
    const context = contextOf(call);
    observeServerCall(path, 'grpc', context.metadata, async () => handler(call.request, context))
      .then(
        (response) => callback(null, response),
        (error: unknown) => callback(toServiceError(error)),
      );
  };
}

function bidiHandler(path: string, handler: AnyHandler) {
  return (call: ServerDuplexStream<unknown, unknown>) => {
    const context = contextOf(call);
    void observeServerCall(path, 'grpc', context.metadata, async () => {
      try {
        // A plain `for await` over the call would destroy the stream once input ends, before the answer is written.
        const requests = call.iterator({ destroyOnReturn: false });
        for await (const response of handler(requests, context) as AsyncIterable<unknown>) {
          if (!call.write(response)) await once(call, 'drain');
        }
        call.end();
      } catch (error) {
        // grpc-js turns an 'error' event on a server stream into the call's final status.
        call.emit('error', toServiceError(error));
        throw error;
      }
    }).catch(() => undefined);
  };
}
