import { Hash } from '@smithy/hash-node';
import { HttpRequest } from '@smithy/protocol-http';
import { SignatureV4, getCanonicalHeaders } from '@smithy/signature-v4';
import { usesS3PathRules } from './constants.js';

/**
 * smithy builds the canonical request (path escaping and normalisation, query ordering and encoding, header value
 * trimming) for every AWS SDK for JavaScript; reusing it means Airlock canonicalises exactly as the SDKs do. Only
 * subclasses can reach `createCanonicalRequest`, hence this small one. It never signs: it has no credentials.
 */
class CanonicalRequestBuilder extends SignatureV4 {
  constructor(uriEscapePath: boolean) {
    super({
      service: 'unused',
      region: 'unused',
      credentials: { accessKeyId: 'unused', secretAccessKey: 'unused' },
      sha256: Hash.bind(null, 'sha256'),
      uriEscapePath,
    });
  }

  build(request: HttpRequest, canonicalHeaders: Record<string, string>, payloadHash: string): string {
    return this.createCanonicalRequest(request, canonicalHeaders, payloadHash);
  }
}

const escapingBuilder = new CanonicalRequestBuilder(true);
const s3Builder = new CanonicalRequestBuilder(false);

export interface CanonicalRequestInput {
  method: string;
  /** Wire form, still percent-encoded. */
  rawPath: string;
  /** Decoded. */
  query: Record<string, string | string[]>;
  /** Exactly the signed headers, lower-case names. */
  headers: Record<string, string>;
  payloadHash: string;
  /** Signing name from the credential scope; decides the path rules. */
  service: string;
}

export function buildCanonicalRequest(input: CanonicalRequestInput): string {
  const request = new HttpRequest({ method: input.method, path: input.rawPath, query: input.query, headers: input.headers });
  // Passing every header as signable keeps headers that smithy would never sign itself (user-agent, expect, ...):
  // the client decided what it signed, and its SignedHeaders list is the only truth.
  const canonicalHeaders = getCanonicalHeaders(request, undefined, new Set(Object.keys(input.headers)));
  // S3 signs the path once-encoded and unnormalised; every other service double-encodes and normalises it.
  const builder = usesS3PathRules(input.service) ? s3Builder : escapingBuilder;
  return builder.build(request, canonicalHeaders as Record<string, string>, input.payloadHash);
}
