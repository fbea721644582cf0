import { createHash } from 'node:crypto';
import { crc32 } from 'node:zlib';
import { contentRange, type Span } from './ranges.js';

/**
 * Headers that describe the exact bytes of a body. Once masking has changed the body they are wrong, and an SDK that
 * checks them (botocore checks DynamoDB's x-amz-crc32; the AWS SDK v3 and botocore check S3's x-amz-checksum-* when
 * checksum validation is on) would refuse the answer. An S3 ETag names the stored object rather than these bytes and
 * is kept: SDKs do not check it on reads, and clients need it (conditional requests, multipart uploads).
 */
export function isBodyBound(name: string): boolean {
  return name === 'content-length' || name === 'content-md5' || name === 'x-amz-crc32' || name.startsWith('x-amz-checksum-');
}

/** Full-object checksums this edge can compute, by header; others (crc32c, crc64nvme) are dropped instead. */
const digests: Record<string, (body: Buffer) => string> = {
  'content-md5': (body) => createHash('md5').update(body).digest('base64'),
  // DynamoDB: CRC32 of the body as an unsigned decimal.
  'x-amz-crc32': (body) => String(crc32(body)),
  'x-amz-checksum-crc32': (body) => uint32Base64(crc32(body)),
  'x-amz-checksum-sha1': (body) => createHash('sha1').update(body).digest('base64'),
  'x-amz-checksum-sha256': (body) => createHash('sha256').update(body).digest('base64'),
};

/**
 * The headers of a masked answer held whole: Content-Length of the masked bytes, and every checksum the upstream sent
 * that can be computed recomputed over them, so that SDKs keep validating what they receive. A checksum that cannot
 * be recomputed is dropped, as are composite (multipart, `…-N`) checksums: SDKs skip validation when the header is
 * absent and would otherwise refuse the answer.
 */
export function headersForHeldBody(upstream: Record<string, string | string[]>, body: Buffer): Record<string, string | string[]> {
  const headers: Record<string, string | string[]> = {};
  for (const [name, value] of Object.entries(upstream)) {
    if (!isBodyBound(name)) headers[name] = value;
    else if (Object.hasOwn(digests, name) && !/-\d+$/.test(String(value))) headers[name] = digests[name]!(body);
  }
  headers['content-length'] = String(body.length);
  return headers;
}

/** The headers of a masked answer that streams: nothing that describes the bytes survives. */
export function headersForStreamedBody(upstream: Record<string, string | string[]>): Record<string, string | string[]> {
  return Object.fromEntries(Object.entries(upstream).filter(([name]) => !isBodyBound(name)));
}

/**
 * The headers of one byte range of a body (a 206 answer): its Content-Range and exact Content-Length, and nothing that
 * describes other bytes (S3 sends no checksums for a range, except one that is the whole object).
 */
export function headersForRange(upstream: Record<string, string | string[]>, span: Span): Record<string, string | string[]> {
  return { ...headersForStreamedBody(upstream), 'content-range': contentRange(span), 'content-length': String(span.last - span.first + 1) };
}

function uint32Base64(value: number): string {
  const bytes = Buffer.alloc(4);
  bytes.writeUInt32BE(value >>> 0);
  return bytes.toString('base64');
}
