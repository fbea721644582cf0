import { status } from '@grpc/grpc-js';
import { callBindings, runWithCallBindings } from '@airlock/logging';
import { SpanKind, contextFrom, inSpan, metrics, secondsSince, traceHeaders } from '@airlock/telemetry';
import { toServiceError } from './status.js';

/** Metadata key carrying the edge's request id to the services a call reaches, for their log lines. */
const requestIdKey = 'airlock-request-id';

/** What every outgoing call carries besides its caller's metadata: the trace context and the request id it serves. */
export function outgoingMetadata(metadata: Readonly<Record<string, string>> | undefined): Record<string, string> {
  const requestId = callBindings().requestId;
  return { ...traceHeaders(), ...(requestId ? { [requestIdKey]: requestId } : {}), ...metadata };
}

/** A unary gRPC call as its caller sees it: a client span (whose context the metadata carries) and its duration. */
export async function observeClientCall<T>(method: string, work: () => Promise<T>): Promise<T> {
  const startedAt = performance.now();
  try {
    return await inSpan(method, { kind: SpanKind.CLIENT, attributes: { 'rpc.system': 'grpc', 'rpc.method': method } }, work);
  } finally {
    metrics.rpcClientDuration.observe({ method }, secondsSince(startedAt));
  }
}

/**
 * Serves one call: in a span that continues the caller's trace (from gRPC metadata; in process the context is
 * already the caller's), with the caller's request id on every log line, counted by method and status code.
 */
export async function observeServerCall<T>(
  method: string,
  transport: 'grpc' | 'in-process',
  metadata: Readonly<Record<string, string>>,
  work: () => Promise<T>,
): Promise<T> {
  const startedAt = performance.now();
  const requestId = metadata[requestIdKey];
  let code = 'OK';
  try {
    return await inSpan(
      method,
      {
        kind: transport === 'grpc' ? SpanKind.SERVER : SpanKind.INTERNAL,
        attributes: { 'rpc.system': transport, 'rpc.method': method },
        ...(transport === 'grpc' ? { parent: contextFrom(metadata) } : {}),
      },
      () => (requestId ? runWithCallBindings({ requestId }, work) : work()),
    );
  } catch (error) {
    code = status[toServiceError(error).code ?? status.UNKNOWN] ?? 'UNKNOWN';
    throw error;
  } finally {
    metrics.rpcServerCalls.inc({ method, code, transport });
    metrics.rpcServerDuration.observe({ method, transport }, secondsSince(startedAt));
  }
}
