import { AirlockError } from '@airlock/errors';

interface SdkError {
  name?: string;
  code?: string;
  $fault?: 'client' | 'server';
  $metadata?: { httpStatusCode?: number };
}

const CREDENTIAL_ERRORS = new Set([
  'AccessDenied',
  'InvalidAccessKeyId',
  'SignatureDoesNotMatch',
  'ExpiredToken',
  'InvalidToken',
  'CredentialsProviderError',
]);

export function isMissing(error: unknown): boolean {
  const e = error as SdkError;
  return e?.name === 'NoSuchKey' || e?.name === 'NotFound' || e?.name === 'NoSuchBucket' || e?.$metadata?.httpStatusCode === 404;
}

/**
 * Unreachable or failing S3 (network errors, 5xx, throttling) is DependencyUnavailable; refused credentials, a
 * missing bucket or region are deployment mistakes (InvalidConfiguration), worth a message that says which.
 */
export function fromS3Error(error: unknown, target: string, action: string): AirlockError {
  if (error instanceof AirlockError) return error;
  const e = (error ?? {}) as SdkError;
  const status = e.$metadata?.httpStatusCode;
  const name = e.name ?? '';
  if (CREDENTIAL_ERRORS.has(name) || status === 403) {
    return new AirlockError(
      'InvalidConfiguration',
      `S3 refused ${action} on ${target}; check the credentials from the default AWS credential chain and their permissions.`,
      { cause: error },
    );
  }
  if (name === 'NoSuchBucket') {
    return new AirlockError('InvalidConfiguration', `The bucket ${target} does not exist.`, { cause: error });
  }
  if (/region is missing/i.test(String((error as Error)?.message))) {
    return new AirlockError('InvalidConfiguration', 'No AWS region is configured for the S3 blob store.', { cause: error });
  }
  if (status === undefined || status >= 500 || e.$fault === 'server' || /Throttl|SlowDown|Timeout/i.test(name)) {
    return new AirlockError('DependencyUnavailable', `S3 (${target}) is unavailable (${action}).`, { cause: error });
  }
  return new AirlockError('Internal', `S3 ${action} on ${target} failed.`, { cause: error });
}
