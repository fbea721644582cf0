import { errorRegistry, isAirlockErrorCode, type AirlockErrorCode, type ErrorSpec } from './registry.js';

/**
 * The one error type that crosses boundaries. `message` is safe to show a client; `cause` is for logs only and never
 * rendered to clients. `details` carries structured, non-secret data (an approval id, a policy id).
 */
export class AirlockError extends Error {
  override readonly name = 'AirlockError';
  readonly code: AirlockErrorCode;
  readonly details: Readonly<Record<string, string>>;

  constructor(code: AirlockErrorCode, message: string, options: { cause?: unknown; details?: Record<string, string> } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.details = Object.freeze({ ...options.details });
  }

  get spec(): ErrorSpec {
    return errorRegistry[this.code];
  }

  get status(): number {
    return this.spec.status;
  }

  get retryable(): boolean {
    return this.spec.retryable;
  }

  /** Restores an error sent over the wire by code and message (gRPC metadata, JSON). */
  static fromWire(code: string, message: string, details: Record<string, string> = {}): AirlockError {
    return new AirlockError(isAirlockErrorCode(code) ? code : 'Internal', message, { details });
  }
}

/**
 * Normalises anything thrown by a dependency into an AirlockError. Unknown errors become `fallback` with a generic
 * message; the original is kept as `cause` for logs and never shown to a client.
 */
export function toAirlockError(error: unknown, fallback: AirlockErrorCode = 'Internal', message?: string): AirlockError {
  if (error instanceof AirlockError) return error;
  return new AirlockError(fallback, message ?? defaultMessage(fallback), { cause: error });
}

function defaultMessage(code: AirlockErrorCode): string {
  switch (code) {
    case 'DependencyUnavailable':
      return 'A service Airlock depends on is unavailable; the request was refused. Retry later.';
    case 'UpstreamUnreachable':
      return 'The AWS endpoint could not be reached.';
    default:
      return 'Airlock could not complete the request.';
  }
}
