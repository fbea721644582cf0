/**
 * Every error Airlock can raise, with the AWS error code and HTTP status that a client's SDK expects for it.
 *
 * `awsCode` is what query, ec2 and rest-xml protocols put in `<Code>`; JSON protocols use `jsonCode` when AWS spells it
 * differently there (for example `AccessDeniedException`). `retryable` is data: SDKs retry 5xx and throttling codes on their own.
 */
export const errorRegistry = {
  InvalidIdentityToken: { awsCode: 'InvalidIdentityToken', status: 400, retryable: false },
  ExpiredIdentityToken: { awsCode: 'ExpiredTokenException', status: 400, retryable: false },
  IdpUnreachable: { awsCode: 'IDPCommunicationError', status: 400, retryable: true },
  MissingAuthentication: { awsCode: 'MissingAuthenticationToken', status: 403, retryable: false },
  IncompleteSignature: { awsCode: 'IncompleteSignature', status: 400, retryable: false },
  SignatureDoesNotMatch: { awsCode: 'SignatureDoesNotMatch', status: 403, retryable: false },
  UnknownAccessKey: { awsCode: 'InvalidClientTokenId', status: 403, retryable: false },
  ExpiredSession: { awsCode: 'ExpiredToken', status: 400, retryable: false },
  RequestTimeTooSkewed: { awsCode: 'RequestTimeTooSkewed', status: 403, retryable: false },
  AccessDenied: { awsCode: 'AccessDenied', jsonCode: 'AccessDeniedException', status: 403, retryable: false },
  ApprovalPending: { awsCode: 'AccessDenied', jsonCode: 'AccessDeniedException', status: 403, retryable: false },
  EndpointNotAllowed: { awsCode: 'InvalidEndpoint', status: 400, retryable: false },
  UnsupportedPayload: { awsCode: 'NotImplemented', status: 501, retryable: false },
  InvalidRequest: { awsCode: 'InvalidRequest', jsonCode: 'ValidationException', status: 400, retryable: false },
  PayloadHashMismatch: { awsCode: 'XAmzContentSHA256Mismatch', status: 400, retryable: false },
  UnknownOperation: { awsCode: 'InvalidAction', jsonCode: 'UnknownOperationException', status: 400, retryable: false },
  Throttled: { awsCode: 'Throttling', jsonCode: 'ThrottlingException', status: 400, retryable: true },
  /** Throttling as S3 says it: HEAD answers have no body, so the 503 alone must tell SDKs to back off and retry. */
  SlowDown: { awsCode: 'SlowDown', status: 503, retryable: true },
  /** Throttling as EC2 says it. */
  RequestLimitExceeded: { awsCode: 'RequestLimitExceeded', status: 503, retryable: true },
  DependencyUnavailable: { awsCode: 'ServiceUnavailable', status: 503, retryable: true },
  UpstreamUnreachable: { awsCode: 'ServiceUnavailable', status: 503, retryable: true },
  NotFound: { awsCode: 'NotFound', jsonCode: 'ResourceNotFoundException', status: 404, retryable: false },
  Conflict: { awsCode: 'Conflict', jsonCode: 'ConflictException', status: 409, retryable: false },
  InvalidConfiguration: { awsCode: 'InternalFailure', status: 500, retryable: false },
  Internal: { awsCode: 'InternalFailure', status: 500, retryable: true },
} as const satisfies Record<string, ErrorSpec>;

export interface ErrorSpec {
  /** Code in XML error bodies (query, ec2, rest-xml protocols). */
  readonly awsCode: string;
  /** Code in JSON error bodies (json, rest-json protocols), when it differs from `awsCode`. */
  readonly jsonCode?: string;
  readonly status: number;
  readonly retryable: boolean;
}

export type AirlockErrorCode = keyof typeof errorRegistry;

export function isAirlockErrorCode(value: string): value is AirlockErrorCode {
  return Object.hasOwn(errorRegistry, value);
}
