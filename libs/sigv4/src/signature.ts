import { createHash, createHmac } from 'node:crypto';
import { ALGORITHM } from './constants.js';

export interface CredentialScope {
  date: string;
  region: string;
  service: string;
}

/** `yyyymmdd/region/service/aws4_request`, the scope line of every string to sign. */
export function scopeString(scope: CredentialScope): string {
  return `${scope.date}/${scope.region}/${scope.service}/aws4_request`;
}

/**
 * The signing key of a secret for one scope (AWS SigV4 docs, "Calculate the signature": kDate, kRegion, kService,
 * kSigning). Chunk and trailer signatures of a streaming upload are HMACs with this key, not with the secret itself.
 */
export function deriveSigningKey(secretAccessKey: string, scope: CredentialScope): Buffer {
  let key = hmac(`AWS4${secretAccessKey}`, scope.date);
  key = hmac(key, scope.region);
  key = hmac(key, scope.service);
  return hmac(key, 'aws4_request');
}

/**
 * The signature over a canonical request (AWS SigV4 docs, "Create a string to sign" and "Calculate the signature").
 * smithy's signer only computes this asynchronously; verification stays synchronous, so that a caller cannot forget to
 * await it and let an unverified request through. Both paths are pinned to the same results by the tests (real SDK
 * signatures and the published AWS test suite vectors).
 */
export function computeSignature(secretAccessKey: string, scope: CredentialScope, amzDate: string, canonicalRequest: string): Buffer {
  const stringToSign = `${ALGORITHM}\n${amzDate}\n${scopeString(scope)}\n${createHash('sha256').update(canonicalRequest, 'utf8').digest('hex')}`;
  return hmac(deriveSigningKey(secretAccessKey, scope), stringToSign);
}

export function hmac(key: string | Buffer, data: string): Buffer {
  return createHmac('sha256', key).update(data, 'utf8').digest();
}
