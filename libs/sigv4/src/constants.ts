/** SHA-256 of the empty string: what a client signs for a request without a body. */
export const EMPTY_SHA256 = 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855';

export const ALGORITHM = 'AWS4-HMAC-SHA256';

/**
 * Signing names whose canonical URI is the path exactly as sent. AWS SigV4 docs, "Create a canonical request":
 * "Each path segment must be URI-encoded twice ... except for Amazon S3 which only gets URI-encoded once", and S3 does
 * not normalise the path either (a key may contain '//' or '..'). S3 Object Lambda and S3 Express follow S3.
 */
const S3_SIGNING_NAMES: ReadonlySet<string> = new Set(['s3', 's3-object-lambda', 's3express']);

export function usesS3PathRules(service: string): boolean {
  return S3_SIGNING_NAMES.has(service);
}
