import { AirlockError } from '@airlock/errors';
import { ErrorCode, NatsError } from 'nats';

const CONNECTION_CODES = new Set<string>([
  ErrorCode.ConnectionClosed,
  ErrorCode.ConnectionDraining,
  ErrorCode.ConnectionRefused,
  ErrorCode.ConnectionTimeout,
  ErrorCode.Disconnect,
  ErrorCode.Timeout,
  ErrorCode.RequestError,
]);

/** JetStream API error codes the drivers act on. */
export const JS_STREAM_NOT_FOUND = 10059;
export const JS_CONSUMER_NOT_FOUND = 10014;

export function apiErrorCode(error: unknown): number | undefined {
  return error instanceof NatsError ? error.api_error?.err_code : undefined;
}

export function isNoResponders(error: unknown): boolean {
  return error instanceof NatsError && error.code === ErrorCode.NoResponders;
}

/**
 * `server` names the dependency in messages; it never carries credentials. API refusals keep the server's
 * description because it says exactly what was wrong with the stream or consumer.
 */
export function fromNatsError(error: unknown, server: string, action: string): AirlockError {
  if (error instanceof AirlockError) return error;
  if (!(error instanceof NatsError)) {
    return new AirlockError('Internal', `NATS ${action} failed.`, { cause: error });
  }
  const api = error.api_error;
  if (api) {
    if (api.code === 404) return new AirlockError('NotFound', `NATS ${action}: ${api.description}.`, { cause: error });
    if (api.code === 400) return new AirlockError('InvalidConfiguration', `NATS ${action}: ${api.description}.`, { cause: error });
    if (api.code === 503) {
      return new AirlockError('DependencyUnavailable', `JetStream at ${server} is unavailable (${action}).`, { cause: error });
    }
    return new AirlockError('Internal', `NATS ${action}: ${api.description}.`, { cause: error });
  }
  if (CONNECTION_CODES.has(error.code) || error.code === ErrorCode.NoResponders) {
    return new AirlockError('DependencyUnavailable', `NATS at ${server} is unavailable (${action}).`, { cause: error });
  }
  if (error.code === ErrorCode.BadHeader || error.code === ErrorCode.BadSubject || error.code === ErrorCode.MaxPayloadExceeded) {
    return new AirlockError('InvalidRequest', `NATS ${action}: ${error.message}.`, { cause: error });
  }
  return new AirlockError('Internal', `NATS ${action} failed.`, { cause: error });
}

/** Names the servers for error messages without any user:password that a URL may carry. */
export function describeServers(servers: string | string[]): string {
  const list = Array.isArray(servers) ? servers : [servers];
  return list.map((s) => s.replace(/\/\/[^@/]*@/, '//')).join(',');
}
