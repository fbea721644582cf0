import { Metadata, status, type ServiceError } from '@grpc/grpc-js';
import { AirlockError, toAirlockError, type AirlockErrorCode } from '@airlock/errors';

const CODE_KEY = 'airlock-error-code';
const DETAILS_KEY = 'airlock-error-details';

const statusByCode: Partial<Record<AirlockErrorCode, status>> = {
  DependencyUnavailable: status.UNAVAILABLE,
  UpstreamUnreachable: status.UNAVAILABLE,
  Throttled: status.RESOURCE_EXHAUSTED,
  SlowDown: status.RESOURCE_EXHAUSTED,
  RequestLimitExceeded: status.RESOURCE_EXHAUSTED,
  AccessDenied: status.PERMISSION_DENIED,
  ApprovalPending: status.FAILED_PRECONDITION,
  NotFound: status.NOT_FOUND,
  Conflict: status.ALREADY_EXISTS,
  InvalidRequest: status.INVALID_ARGUMENT,
};

/** Carries an AirlockError across gRPC: a status for generic clients, the exact code and details in trailers. */
export function toServiceError(error: unknown): Partial<ServiceError> {
  const airlockError = toAirlockError(error);
  const metadata = new Metadata();
  metadata.set(CODE_KEY, airlockError.code);
  if (Object.keys(airlockError.details).length > 0) metadata.set(DETAILS_KEY, JSON.stringify(airlockError.details));
  return {
    code: statusByCode[airlockError.code] ?? status.INTERNAL,
    details: airlockError.message,
    metadata,
  };
}

/** Restores the AirlockError a server sent, or names the dependency that could not answer. */
export function fromServiceError(error: ServiceError, serviceName: string): AirlockError {
  const code = error.metadata?.get(CODE_KEY)[0];
  if (typeof code === 'string') {
    const rawDetails = error.metadata.get(DETAILS_KEY)[0];
    const details = typeof rawDetails === 'string' ? (JSON.parse(rawDetails) as Record<string, string>) : {};
    return AirlockError.fromWire(code, error.details, details);
  }
  if (error.code === status.UNAVAILABLE || error.code === status.DEADLINE_EXCEEDED || error.code === status.CANCELLED) {
    return new AirlockError('DependencyUnavailable', `The ${serviceName} service did not answer; the request was refused.`, {
      cause: error,
    });
  }
  return new AirlockError('Internal', `The ${serviceName} service failed.`, { cause: error });
}
