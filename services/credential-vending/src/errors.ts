import { AirlockError } from '@airlock/errors';

// AWS error names for throttling differ by service and SDK path; all of them mean "slow down".
const throttlingNames = new Set(['Throttling', 'ThrottlingException', 'RequestLimitExceeded', 'TooManyRequestsException', 'SlowDown']);
const requestRejectedNames = new Set(['MalformedPolicyDocument', 'MalformedPolicyDocumentException', 'PackedPolicyTooLarge', 'PackedPolicyTooLargeException', 'ValidationError', 'InvalidParameterValue']);
// STS refusing Airlock's own identity: a deployment problem, not the caller's.
const ownIdentityNames = new Set(['InvalidClientTokenId', 'ExpiredToken', 'ExpiredTokenException', 'SignatureDoesNotMatch', 'IncompleteSignature', 'CredentialsProviderError']);
const networkCodes = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'ENOTFOUND', 'EAI_AGAIN', 'EHOSTUNREACH', 'ENETUNREACH', 'EPIPE']);

interface SdkErrorShape {
  name?: string;
  code?: string;
  $fault?: 'client' | 'server';
  $metadata?: { httpStatusCode?: number };
}

/**
 * Turns whatever STS or the SDK threw into an AirlockError whose message is safe for a client: it names the role
 * and the kind of failure, never credentials. The original error stays as `cause`, for logs only.
 */
export function toVendingError(error: unknown, roleArn: string): AirlockError {
  if (error instanceof AirlockError) return error;
  const shape = (typeof error === 'object' && error !== null ? error : {}) as SdkErrorShape;
  const name = shape.name ?? '';
  const status = shape.$metadata?.httpStatusCode;
  const details = { roleArn, stsError: name || 'unknown' };

  if (throttlingNames.has(name) || status === 429) {
    return new AirlockError('Throttled', 'STS is throttling credential requests; retry shortly.', { cause: error, details });
  }
  if (name === 'AccessDenied' || name === 'AccessDeniedException') {
    return new AirlockError(
      'AccessDenied',
      `STS refused to let Airlock assume role ${roleArn}: check that the role exists and that its trust policy allows Airlock's identity (sts:AssumeRole, sts:TagSession, sts:SetSourceIdentity).`,
      { cause: error, details },
    );
  }
  if (requestRejectedNames.has(name)) {
    return new AirlockError('InvalidRequest', `STS rejected the request for role ${roleArn} (${name}).`, { cause: error, details });
  }
  if (name === 'RegionDisabledException') {
    return new AirlockError('DependencyUnavailable', 'STS is not activated in the region credential vending uses.', { cause: error, details });
  }
  if (ownIdentityNames.has(name)) {
    return new AirlockError('DependencyUnavailable', "STS did not accept credential vending's own AWS identity; credentials cannot be vended.", { cause: error, details });
  }
  if (shape.$fault === 'server' || (status !== undefined && status >= 500) || isNetworkError(error)) {
    return new AirlockError('DependencyUnavailable', 'STS is unreachable or failing; credentials cannot be vended right now. Retry later.', { cause: error, details });
  }
  return new AirlockError('Internal', `Credentials for role ${roleArn} could not be vended.`, { cause: error, details });
}

/** A failure before any HTTP answer arrived: refused, reset or timed-out connections, DNS, the SDK's own timeouts. */
function isNetworkError(error: unknown): boolean {
  for (let current = error, depth = 0; typeof current === 'object' && current !== null && depth < 5; depth++) {
    const { code, name, $metadata } = current as SdkErrorShape;
    if ($metadata?.httpStatusCode !== undefined) return false;
    if (code && networkCodes.has(code)) return true;
    if (name === 'TimeoutError' || name === 'RequestTimeout') return true;
    current = (current as { cause?: unknown }).cause;
  }
  // AggregateError (happy-eyeballs connecting to several addresses) carries the codes on its members.
  if (error instanceof AggregateError) return error.errors.some(isNetworkError);
  return false;
}

/**
 * Whether another try may succeed: throttling, STS's own server faults and network failures. Refusals (access,
 * malformed input) and problems with Airlock's own identity or region will not change by retrying.
 */
export function isTransientStsError(error: unknown): boolean {
  if (error instanceof AirlockError) return false;
  const shape = (typeof error === 'object' && error !== null ? error : {}) as SdkErrorShape;
  const name = shape.name ?? '';
  const status = shape.$metadata?.httpStatusCode;
  if (throttlingNames.has(name) || status === 429) return true;
  if (ownIdentityNames.has(name) || name === 'RegionDisabledException' || name === 'AccessDenied' || requestRejectedNames.has(name)) return false;
  return shape.$fault === 'server' || (status !== undefined && status >= 500) || isNetworkError(error);
}
