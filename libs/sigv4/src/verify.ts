import { timingSafeEqual } from 'node:crypto';
import { AirlockError } from '@airlock/errors';
import { parseAmzDate } from './amz-date.js';
import { buildCanonicalRequest } from './canonical-request.js';
import { headerValue } from './headers.js';
import { parseRawQuery } from './parse-raw-query.js';
import { computeSignature } from './signature.js';
import type { IncomingRequestHead, ParsedAuthorization } from './types.js';

/** AWS allows a request time within 15 minutes of its own clock (AWS SigV4 docs, "Signature Version 4 request elements"). */
const DEFAULT_MAX_SKEW_MS = 15 * 60 * 1000;

/**
 * Recomputes the signature the client must have produced and compares it in constant time. It reproduces exactly what
 * the client signed: only the headers listed in SignedHeaders, the payload hash the client declared, the X-Amz-Date it
 * sent and the path as it arrived. Throws RequestTimeTooSkewed (AccessDenied for a presigned URL that expired or is not
 * valid yet) or SignatureDoesNotMatch; returns nothing on success.
 *
 * When `auth.payloadHashFromHeader` is false and the request has a body, pass `{ ...auth, payloadHash: sha256(body) }`.
 * A declared hex payload hash is only what the client signed: whoever reads the body must still check it matches.
 */
export function verifySignature(
  head: IncomingRequestHead,
  auth: ParsedAuthorization,
  secretAccessKey: string,
  options: { now: Date; maxSkewMs?: number },
): void {
  const requestTime = parseAmzDate(auth.amzDate);
  if (requestTime === undefined) {
    throw new AirlockError('IncompleteSignature', 'The X-Amz-Date header must be an ISO 8601 basic UTC timestamp such as 20150830T123600Z.');
  }
  const maxSkewMs = options.maxSkewMs ?? DEFAULT_MAX_SKEW_MS;
  if (auth.presigned) {
    // A presigned URL is valid from X-Amz-Date (give or take the clock skew) for X-Amz-Expires seconds; S3 answers
    // AccessDenied "Request has expired" after that.
    if (requestTime.getTime() - options.now.getTime() > maxSkewMs) {
      throw new AirlockError('AccessDenied', 'Request is not yet valid: X-Amz-Date of the presigned URL is in the future.');
    }
    if (options.now.getTime() > requestTime.getTime() + auth.presigned.expiresSeconds * 1000) {
      throw new AirlockError('AccessDenied', 'Request has expired: the presigned URL is past X-Amz-Date plus X-Amz-Expires.', {
        details: { expires: new Date(requestTime.getTime() + auth.presigned.expiresSeconds * 1000).toISOString(), serverTime: options.now.toISOString() },
      });
    }
  } else if (Math.abs(options.now.getTime() - requestTime.getTime()) > maxSkewMs) {
    throw new AirlockError('RequestTimeTooSkewed', 'The difference between the request time and the current time is too large.', {
      details: { requestTime: requestTime.toISOString(), serverTime: options.now.toISOString() },
    });
  }

  const headers = Object.create(null) as Record<string, string>;
  for (const name of auth.signedHeaders) {
    const value = headerValue(head.headers, name);
    if (value === undefined) {
      throw new AirlockError('SignatureDoesNotMatch', `The request signature we calculated does not match the signature you provided: signed header '${name}' is missing from the request.`);
    }
    headers[name] = value;
  }

  const query = parseRawQuery(head.rawQuery);
  // A presigned URL signs every parameter but its own signature.
  if (auth.presigned) for (const name of Object.keys(query)) if (name.toLowerCase() === 'x-amz-signature') delete query[name];
  const canonicalRequest = buildCanonicalRequest({
    method: head.method,
    rawPath: head.rawPath,
    query,
    headers,
    payloadHash: auth.payloadHash,
    service: auth.service,
  });
  const expected = computeSignature(secretAccessKey, auth, auth.amzDate, canonicalRequest);
  const provided = Buffer.from(auth.signature, 'hex');
  if (provided.length !== expected.length || !timingSafeEqual(provided, expected)) {
    throw new AirlockError(
      'SignatureDoesNotMatch',
      'The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method.',
    );
  }
}
