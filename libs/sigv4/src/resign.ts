import { Hash } from '@smithy/hash-node';
import { HttpRequest } from '@smithy/protocol-http';
import { SignatureV4 } from '@smithy/signature-v4';
import { AirlockError } from '@airlock/errors';
import { chunkSigningContext, type ChunkSigningContext } from './chunked.js';
import { usesS3PathRules } from './constants.js';
import type { OutgoingRequest } from './types.js';

/**
 * The client's own authentication, dropped before signing. The client's Airlock session token must never reach AWS,
 * and the rest is regenerated for the new signature (`date` would be ignored by smithy anyway and would disagree with
 * X-Amz-Date).
 */
const CLIENT_AUTH_HEADERS: ReadonlySet<string> = new Set(['authorization', 'x-amz-date', 'date', 'x-amz-security-token', 'x-amz-content-sha256', 'host']);
/**
 * Query-string authentication parameters (presigned URLs), by lower-cased name. X-Amz-Content-Sha256 is the payload
 * declaration of a presigned S3 URL; the re-signed request declares its payload in the header instead.
 */
const CLIENT_AUTH_QUERY: ReadonlySet<string> = new Set([
  'x-amz-algorithm', 'x-amz-credential', 'x-amz-date', 'x-amz-expires', 'x-amz-signedheaders', 'x-amz-signature', 'x-amz-security-token',
  'x-amz-content-sha256',
]);

/** Whether a query parameter (any case) belongs to the client's query-string authentication and must not travel on. */
export function isClientAuthQueryParameter(name: string): boolean {
  return CLIENT_AUTH_QUERY.has(name.toLowerCase());
}

/** A re-signed request, and what signing its chunks needs when the payload is STREAMING-AWS4-HMAC-SHA256-PAYLOAD. */
export interface ResignedRequest extends OutgoingRequest {
  /** Seeded by the new request signature, keyed by the new credentials' signing key: never log it. */
  signing: ChunkSigningContext;
}
const DEFAULT_PORTS: Readonly<Record<OutgoingRequest['protocol'], number>> = { 'http:': 80, 'https:': 443 };

/**
 * Signs a request for AWS with `credentials`, after stripping whatever authentication the client sent. Returns a copy
 * with `host`, `x-amz-date`, `x-amz-content-sha256`, `authorization` and, for temporary credentials,
 * `x-amz-security-token` set; header names come back lower-case. `payloadHash` is what goes in x-amz-content-sha256: a
 * hex digest of the body or a literal such as UNSIGNED-PAYLOAD. With STREAMING-AWS4-HMAC-SHA256-PAYLOAD the caller
 * must also re-sign every chunk with `signing` (seeded by the signature in the returned authorization header), e.g.
 * through `reframeSignedChunks`.
 */
export async function resign(
  request: OutgoingRequest,
  credentials: { accessKeyId: string; secretAccessKey: string; sessionToken?: string },
  options: { region: string; service: string; payloadHash: string; now?: Date },
): Promise<ResignedRequest> {
  const headers: Record<string, string> = Object.create(null) as Record<string, string>;
  for (const [name, value] of Object.entries(request.headers)) {
    const lower = name.toLowerCase();
    if (!CLIENT_AUTH_HEADERS.has(lower)) headers[lower] = value;
  }
  // SDKs set host in a middleware, not in the signer; it must be exactly what the HTTP client will send.
  headers.host = request.port === undefined || request.port === DEFAULT_PORTS[request.protocol] ? request.hostname : `${request.hostname}:${request.port}`;
  headers['x-amz-content-sha256'] = options.payloadHash;

  const query: Record<string, string | string[]> = Object.create(null) as Record<string, string | string[]>;
  for (const [name, value] of Object.entries(request.query)) {
    if (!CLIENT_AUTH_QUERY.has(name.toLowerCase())) query[name] = Array.isArray(value) ? [...value] : value;
  }

  const signer = new SignatureV4({
    service: options.service,
    region: options.region,
    credentials,
    sha256: Hash.bind(null, 'sha256'),
    uriEscapePath: !usesS3PathRules(options.service),
  });
  const signed = await signer.sign(
    new HttpRequest({
      method: request.method,
      protocol: request.protocol,
      hostname: request.hostname,
      ...(request.port === undefined ? {} : { port: request.port }),
      path: request.path,
      query,
      headers,
    }),
    { signingDate: options.now ?? new Date(), signingRegion: options.region, signingService: options.service },
  );

  const signedHeaders: Record<string, string> = {};
  for (const [name, value] of Object.entries(signed.headers)) signedHeaders[name] = value;
  const signature = /Signature=([0-9a-f]{64})$/.exec(signedHeaders['authorization'] ?? '')?.[1];
  const amzDate = signedHeaders['x-amz-date'];
  if (signature === undefined || amzDate === undefined) throw new AirlockError('Internal', 'The re-signed request carries no signature.');
  const signing = chunkSigningContext(credentials.secretAccessKey, { date: amzDate.slice(0, 8), region: options.region, service: options.service }, amzDate, signature);
  return { ...request, query: { ...query }, headers: signedHeaders, signing };
}
