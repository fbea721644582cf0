import { AirlockError } from '@airlock/errors';

/**
 * A reply error means Redis answered and refused the command; anything else (refused connection, closed socket,
 * offline queue disabled, timeout) means Redis could not be reached, so the caller must fail closed.
 */
export function fromRedisError(error: unknown, target: string, action: string): AirlockError {
  if (error instanceof AirlockError) return error;
  if (error instanceof Error && error.name === 'ReplyError') {
    if (/not an integer|out of range|overflow/i.test(error.message)) {
      return new AirlockError('InvalidRequest', `The value is not an integer (${action}).`, { cause: error });
    }
    return new AirlockError('Internal', `Redis refused ${action}.`, { cause: error });
  }
  return new AirlockError('DependencyUnavailable', `Redis at ${target} is unavailable (${action}).`, { cause: error });
}

/** host:port of a Redis URL, never its password. */
export function describeRedis(url: string): string {
  try {
    const parsed = new URL(url);
    return `${parsed.hostname}:${parsed.port || '6379'}`;
  } catch {
    return 'the configured URL';
  }
}
