import { createHash, timingSafeEqual } from 'node:crypto';
import { Transform, type TransformCallback } from 'node:stream';
import { AirlockError } from '@airlock/errors';

const hexSha256 = /^[0-9a-f]{64}$/;

/** The payload hash values a client may sign with, and what the edge must do for each. */
export type PayloadMode = 'hashed' | 'unsigned' | 'unsigned-trailer' | 'signed-chunks';

export function payloadMode(payloadHash: string): PayloadMode {
  if (hexSha256.test(payloadHash)) return 'hashed';
  switch (payloadHash) {
    case 'UNSIGNED-PAYLOAD':
      return 'unsigned';
    case 'STREAMING-UNSIGNED-PAYLOAD-TRAILER':
      return 'unsigned-trailer';
    case 'STREAMING-AWS4-HMAC-SHA256-PAYLOAD':
    case 'STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER':
    case 'STREAMING-AWS4-ECDSA-P256-SHA256-PAYLOAD':
    case 'STREAMING-AWS4-ECDSA-P256-SHA256-PAYLOAD-TRAILER':
      return 'signed-chunks';
    default:
      throw new AirlockError('InvalidRequest', 'x-amz-content-sha256 must be a hex SHA-256 digest or a documented streaming value.');
  }
}

export function sha256Hex(data: Uint8Array): string {
  return createHash('sha256').update(data).digest('hex');
}

/**
 * Checks a streamed body against the SHA-256 the client signed. The last chunk is held back until the digest
 * matches, so an upstream never receives a complete body that the client did not sign.
 */
export function verifyingStream(expectedHex: string): Transform {
  const hash = createHash('sha256');
  let held: Buffer | undefined;
  return new Transform({
    transform(chunk: Buffer, _encoding, callback: TransformCallback) {
      hash.update(chunk);
      const previous = held;
      held = chunk;
      callback(null, previous);
    },
    flush(callback: TransformCallback) {
      const actual = hash.digest();
      if (!timingSafeEqual(actual, Buffer.from(expectedHex, 'hex'))) {
        callback(new AirlockError('PayloadHashMismatch', 'The body does not match the x-amz-content-sha256 the request was signed with.'));
        return;
      }
      callback(null, held);
    },
  });
}
