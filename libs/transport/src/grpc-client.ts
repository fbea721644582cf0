import { once } from 'node:events';
import {
  credentials as grpcCredentials,
  makeGenericClientConstructor,
  Metadata,
  type ChannelCredentials,
  type Client,
  type ClientDuplexStream,
  type ServiceError,
} from '@grpc/grpc-js';
import {
  methodKind,
  type CallOptions,
  type ServiceClient,
  type ServiceDefinition,
} from './definition.js';
import { observeClientCall, outgoingMetadata } from './observe.js';
import { fromServiceError } from './status.js';

export interface GrpcClientOptions {
  /** host:port of the service. */
  address: string;
  /** Human name used in errors ("policy"). */
  serviceName: string;
  /** Deadline for unary calls. @default 5000 */
  defaultTimeoutMs?: number;
  /** mTLS from watched files (mutualTlsChannelCredentials); plaintext when absent. */
  credentials?: ChannelCredentials;
}

export interface ClosableClient<D extends ServiceDefinition> {
  client: ServiceClient<D>;
  close(): void;
}

type UnaryInvoker = (
  request: unknown,
  metadata: Metadata,
  options: { deadline: Date },
  callback: (error: ServiceError | null, response: unknown) => void,
) => { cancel(): void };
type BidiInvoker = (metadata: Metadata, options: object) => ClientDuplexStream<unknown, unknown>;

/** A promise-and-iterator client for a ts-proto grpc-js service definition. */
export function createGrpcClient<D extends ServiceDefinition>(definition: D, options: GrpcClientOptions): ClosableClient<D> {
  const Constructor = makeGenericClientConstructor(definition as never, options.serviceName);
  const raw = new Constructor(options.address, options.credentials ?? grpcCredentials.createInsecure(), {
    'grpc.keepalive_time_ms': 30_000,
  }) as Client & Record<string, unknown>;
  const defaultTimeoutMs = options.defaultTimeoutMs ?? 5_000;
  const client: Record<string, unknown> = {};
  for (const [name, method] of Object.entries(definition)) {
    const invoker = (raw[name] as (...args: unknown[]) => unknown).bind(raw);
    client[name] =
      methodKind(method) === 'unary'
        ? unary(invoker as UnaryInvoker, method.path.slice(1), options.serviceName, defaultTimeoutMs)
        : bidi(invoker as BidiInvoker, options.serviceName);
  }
  return { client: client as ServiceClient<D>, close: () => raw.close() };
}

/** The caller's metadata plus the trace context and request id of the call being served (observe.ts). */
function toMetadata(values: Record<string, string> | undefined): Metadata {
  const metadata = new Metadata();
  for (const [key, value] of Object.entries(outgoingMetadata(values))) metadata.set(key, value);
  return metadata;
}

function unary(invoke: UnaryInvoker, method: string, serviceName: string, defaultTimeoutMs: number) {
  return (request: unknown, options: CallOptions = {}) =>
    observeClientCall(
      method,
      () =>
        new Promise<unknown>((resolve, reject) => {
          options.signal?.throwIfAborted();
          const deadline = new Date(Date.now() + (options.timeoutMs ?? defaultTimeoutMs));
          const call = invoke(request, toMetadata(options.metadata), { deadline }, (error, response) => {
            options.signal?.removeEventListener('abort', cancel);
            if (error) reject(fromServiceError(error, serviceName));
            else resolve(response);
          });
          const cancel = () => call.cancel();
          options.signal?.addEventListener('abort', cancel, { once: true });
        }),
    );
}

function bidi(invoke: BidiInvoker, serviceName: string) {
  return async function* (requests: AsyncIterable<unknown>, options: CallOptions = {}) {
    const call = invoke(toMetadata(options.metadata), {});
    const cancel = () => call.cancel();
    options.signal?.addEventListener('abort', cancel, { once: true });
    let writeError: unknown;
    const writing = (async () => {
      try {
        for await (const request of requests) {
          if (!call.write(request)) await once(call, 'drain');
        }
        call.end();
      } catch (error) {
        writeError = error;
        call.cancel();
      }
    })();
    try {
      for await (const response of call) yield response;
      await writing;
      if (writeError) throw writeError;
    } catch (error) {
      if (writeError) throw writeError;
      throw isServiceError(error) ? fromServiceError(error, serviceName) : error;
    } finally {
      options.signal?.removeEventListener('abort', cancel);
      // A consumer that stops reading early must not leave the stream open on the server.
      call.cancel();
    }
  };
}

function isServiceError(error: unknown): error is ServiceError {
  return error instanceof Error && 'code' in error && 'metadata' in error;
}
