import { toAirlockError } from '@airlock/errors';
import {
  methodKind,
  type CallOptions,
  type MethodDefinition,
  type ServiceClient,
  type ServiceDefinition,
  type ServiceImplementation,
} from './definition.js';
import { observeServerCall } from './observe.js';

type AnyHandler = (input: unknown, context: { signal: AbortSignal; metadata: Record<string, string> }) => unknown;

/**
 * Binds an implementation to the client interface without a network hop (embedded mode). Messages still pass
 * through their protobuf encoding, so a caller sees exactly what it would over gRPC: defaults filled, no shared objects.
 */
export function bindInProcess<D extends ServiceDefinition>(definition: D, implementation: ServiceImplementation<D>): ServiceClient<D> {
  const client: Record<string, unknown> = {};
  for (const [name, method] of Object.entries(definition)) {
    const handler = (implementation as Record<string, AnyHandler>)[name];
    if (!handler) throw new Error(`${method.path} has no implementation`);
    client[name] = methodKind(method) === 'unary' ? unary(method, handler) : bidi(method, handler);
  }
  return client as ServiceClient<D>;
}

function unary(method: MethodDefinition<unknown, unknown>, handler: AnyHandler) {
  return async (request: unknown, options: CallOptions = {}) => {
    const context = { signal: options.signal ?? new AbortController().signal, metadata: options.metadata ?? {} };
    try {
      const copied = method.requestDeserialize(method.requestSerialize(request));
      const response = await observeServerCall(method.path.slice(1), 'in-process', context.metadata, async () => handler(copied, context));
      return method.responseDeserialize(method.responseSerialize(response));
    } catch (error) {
      throw toAirlockError(error);
    }
  };
}

function bidi(method: MethodDefinition<unknown, unknown>, handler: AnyHandler) {
  return async function* (requests: AsyncIterable<unknown>, options: CallOptions = {}) {
    const context = { signal: options.signal ?? new AbortController().signal, metadata: options.metadata ?? {} };
    async function* copiedRequests() {
      for await (const request of requests) yield method.requestDeserialize(method.requestSerialize(request));
    }
    try {
      for await (const response of handler(copiedRequests(), context) as AsyncIterable<unknown>) {
        yield method.responseDeserialize(method.responseSerialize(response));
      }
    } catch (error) {
      throw toAirlockError(error);
    }
  };
}
