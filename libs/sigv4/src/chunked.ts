import { createHash, timingSafeEqual, type Hash } from 'node:crypto';
import { Transform, type TransformCallback } from 'node:stream';
import { AirlockError } from '@airlock/errors';
import { EMPTY_SHA256 } from './constants.js';
import { deriveSigningKey, hmac, scopeString, type CredentialScope } from './signature.js';

/**
 * Signed streaming uploads (S3 API docs, "Signature Calculations for the Authorization Header: Transferring Payload in
 * Multiple Chunks (Chunked Upload)" and "... Including Trailing Headers"). The body is aws-chunked:
 *
 *     <hex size>;chunk-signature=<64 hex>\r\n <size bytes> \r\n   (repeated)
 *     0;chunk-signature=<64 hex>\r\n
 *     \r\n                                                      (without trailer)
 *     x-amz-checksum-crc32:<base64>\r\n x-amz-trailer-signature:<64 hex>\r\n \r\n   (with trailer)
 *
 * Each chunk signature chains from the previous one, starting at the request's own (seed) signature.
 */
export const STREAMING_SIGNED_PAYLOAD = 'STREAMING-AWS4-HMAC-SHA256-PAYLOAD';
export const STREAMING_SIGNED_PAYLOAD_TRAILER = 'STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER';

/** Everything needed to sign or verify the chunks of one streaming upload. Holds a signing key: never log it. */
export interface ChunkSigningContext {
  /** kSigning of the credentials for `scope`. */
  signingKey: Buffer;
  /** X-Amz-Date of the request, yyyymmddThhmmssZ. */
  amzDate: string;
  /** `yyyymmdd/region/service/aws4_request`. */
  scope: string;
  /** The request's signature: the first chunk chains from it. */
  seedSignature: string;
}

export function chunkSigningContext(secretAccessKey: string, scope: CredentialScope, amzDate: string, seedSignature: string): ChunkSigningContext {
  return { signingKey: deriveSigningKey(secretAccessKey, scope), amzDate, scope: scopeString(scope), seedSignature };
}

/** One chunk's signature: HMAC over AWS4-HMAC-SHA256-PAYLOAD, date, scope, previous signature, hash(''), hash(data). */
export function chunkSignature(context: ChunkSigningContext, previousSignature: string, chunkSha256Hex: string): string {
  const stringToSign = `AWS4-HMAC-SHA256-PAYLOAD\n${context.amzDate}\n${context.scope}\n${previousSignature}\n${EMPTY_SHA256}\n${chunkSha256Hex}`;
  return hmac(context.signingKey, stringToSign).toString('hex');
}

/**
 * The trailer's signature, chained from the final (empty) chunk's. `canonicalTrailers` is every trailing header but the
 * signature, in the order sent, each as `lower-case-name:trimmed-value\n`.
 */
export function trailerSignature(context: ChunkSigningContext, previousSignature: string, canonicalTrailers: string): string {
  const hash = createHash('sha256').update(canonicalTrailers, 'utf8').digest('hex');
  return hmac(context.signingKey, `AWS4-HMAC-SHA256-TRAILER\n${context.amzDate}\n${context.scope}\n${previousSignature}\n${hash}`).toString('hex');
}

export interface ChunkSigner {
  /** Signs the next chunk (the final chunk is the SHA-256 of nothing) and advances the chain. */
  chunk(chunkSha256Hex: string): string;
  trailer(canonicalTrailers: string): string;
}

export function createChunkSigner(context: ChunkSigningContext): ChunkSigner {
  let previous = context.seedSignature;
  return {
    chunk(chunkSha256Hex) {
      previous = chunkSignature(context, previous, chunkSha256Hex);
      return previous;
    },
    trailer(canonicalTrailers) {
      previous = trailerSignature(context, previous, canonicalTrailers);
      return previous;
    },
  };
}

export interface ChunkVerifier {
  /** Throws SignatureDoesNotMatch unless `provided` is the next signature of the chain; advances it otherwise. */
  chunk(chunkSha256Hex: string, provided: string): void;
  trailer(canonicalTrailers: string, provided: string): void;
}

export function createChunkVerifier(context: ChunkSigningContext): ChunkVerifier {
  const expected = createChunkSigner(context);
  const check = (computed: string, provided: string, what: string) => {
    const a = Buffer.from(computed, 'hex');
    const b = Buffer.from(provided, 'hex');
    if (b.length !== a.length || provided.length !== 64 || !timingSafeEqual(a, b)) {
      throw new AirlockError('SignatureDoesNotMatch', `The ${what} signature we calculated does not match the one you provided: the upload was altered or signed with another key.`);
    }
  };
  return {
    chunk(chunkSha256Hex, provided) {
      check(expected.chunk(chunkSha256Hex), provided, 'chunk');
    },
    trailer(canonicalTrailers, provided) {
      check(expected.trailer(canonicalTrailers), provided, 'trailer');
    },
  };
}

export interface ReframeOptions {
  /** The client's chain: every incoming chunk (and the trailer) is verified against it. */
  incoming: ChunkSigningContext;
  /** The chain of the re-signed request: every outgoing chunk (and the trailer) is signed with it. */
  outgoing: ChunkSigningContext;
  /** STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER: trailing headers and a trailer signature follow the final chunk. */
  trailer: boolean;
  /** x-amz-decoded-content-length: the data must add up to exactly this. */
  decodedContentLength?: number;
  /** Largest chunk accepted; one chunk is buffered whole, so this bounds the memory of one upload. Default 8 MiB. */
  maxChunkSize?: number;
}

const DEFAULT_MAX_CHUNK_SIZE = 8 * 1024 * 1024;
const MAX_LINE = 4096;
const MAX_TRAILER_BYTES = 16 * 1024;
const CHUNK_LINE = /^([0-9a-fA-F]{1,16});chunk-signature=([0-9a-f]{64})$/;
const TRAILER_SIGNATURE = 'x-amz-trailer-signature';
const CRLF = Buffer.from('\r\n', 'latin1');

/**
 * Verifies a signed aws-chunked body chunk by chunk and re-signs it for another chain, keeping the client's chunk
 * boundaries: chunk signatures are all 64 hex digits, so the output is exactly as long as the input and the request's
 * Content-Length and x-amz-decoded-content-length stay true. A chunk leaves only after its signature was verified, and
 * the final chunk (and trailer) only after they were, so a downstream reader never gets a complete body that the
 * client did not sign; on a bad signature the stream fails instead. Memory: one chunk at most.
 */
export function reframeSignedChunks(options: ReframeOptions): Transform {
  return new SignedChunkReframer(options);
}

type State = 'size-line' | 'data' | 'data-end' | 'final-line' | 'trailer' | 'trailer-end' | 'done';

class SignedChunkReframer extends Transform {
  private readonly verifier: ChunkVerifier;
  private readonly signer: ChunkSigner;
  private readonly maxChunkSize: number;
  private state: State = 'size-line';
  private line: Buffer[] = [];
  private lineLength = 0;
  private sizeText = '';
  private providedSignature = '';
  private remaining = 0;
  private parts: Buffer[] = [];
  private hash: Hash | undefined;
  private crlfMatched = 0;
  private decoded = 0;
  /** The re-signed final chunk line, held back until everything after it is verified. */
  private finalLine = '';
  private trailerRaw: string[] = [];
  private trailerCanonical = '';
  private trailerBytes = 0;

  constructor(private readonly options: ReframeOptions) {
    super();
    this.verifier = createChunkVerifier(options.incoming);
    this.signer = createChunkSigner(options.outgoing);
    this.maxChunkSize = options.maxChunkSize ?? DEFAULT_MAX_CHUNK_SIZE;
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    try {
      this.consume(chunk);
      callback();
    } catch (error) {
      callback(error as Error);
    }
  }

  override _flush(callback: TransformCallback): void {
    // A body may end right after its last line without the closing empty line; what was sent is passed on as sent.
    if (this.lineLength === 0 && this.state === 'final-line') {
      this.push(this.finalLine, 'latin1');
      this.state = 'done';
    }
    if (this.lineLength === 0 && (this.state === 'done' || this.state === 'trailer-end')) {
      callback();
      return;
    }
    callback(malformed('the body ended before its final chunk'));
  }

  private consume(buffer: Buffer): void {
    let offset = 0;
    while (offset < buffer.length) {
      switch (this.state) {
        case 'data': {
          const take = Math.min(this.remaining, buffer.length - offset);
          const slice = buffer.subarray(offset, offset + take);
          this.parts.push(slice);
          this.hash?.update(slice);
          this.remaining -= take;
          offset += take;
          if (this.remaining === 0) this.state = 'data-end';
          break;
        }
        case 'data-end': {
          if (buffer[offset] !== CRLF[this.crlfMatched]) throw malformed('a chunk is not followed by CRLF');
          offset += 1;
          this.crlfMatched += 1;
          if (this.crlfMatched === 2) this.endChunk();
          break;
        }
        case 'done':
          throw malformed('data follows the final chunk');
        default: {
          const end = buffer.indexOf(0x0a, offset);
          const stop = end === -1 ? buffer.length : end + 1;
          this.lineLength += stop - offset;
          if (this.lineLength > MAX_LINE) throw malformed('a chunk line is too long');
          this.line.push(buffer.subarray(offset, stop));
          offset = stop;
          if (end !== -1) this.endLine();
        }
      }
    }
  }

  private endLine(): void {
    const raw = Buffer.concat(this.line, this.lineLength).toString('latin1');
    this.line = [];
    this.lineLength = 0;
    if (!raw.endsWith('\r\n')) throw malformed('a line does not end with CRLF');
    const line = raw.slice(0, -2);
    switch (this.state) {
      case 'size-line':
        this.startChunk(line);
        return;
      case 'final-line':
        if (line !== '') throw malformed('the final chunk is not followed by an empty line');
        this.push(`${this.finalLine}\r\n`, 'latin1');
        this.state = 'done';
        return;
      case 'trailer':
        this.trailerLine(line);
        return;
      case 'trailer-end':
        if (line !== '') throw malformed('the trailer signature is not followed by an empty line');
        this.push(CRLF);
        this.state = 'done';
        return;
      default:
        throw malformed('unexpected line');
    }
  }

  private startChunk(line: string): void {
    const match = CHUNK_LINE.exec(line);
    if (!match) throw malformed('a chunk does not start with <hex size>;chunk-signature=<64 hex digits>');
    const [, sizeText = '', signature = ''] = match;
    const size = Number.parseInt(sizeText, 16);
    if (size > this.maxChunkSize) {
      throw new AirlockError('InvalidRequest', `An aws-chunked chunk of ${size} bytes exceeds the ${this.maxChunkSize} bytes Airlock accepts; send smaller chunks.`);
    }
    this.sizeText = sizeText;
    this.providedSignature = signature;
    if (size === 0) {
      this.verifier.chunk(EMPTY_SHA256, signature);
      const expected = this.options.decodedContentLength;
      if (expected !== undefined && this.decoded !== expected) {
        throw new AirlockError('InvalidRequest', `The chunks carry ${this.decoded} bytes but x-amz-decoded-content-length says ${expected}.`);
      }
      this.finalLine = `${sizeText};chunk-signature=${this.signer.chunk(EMPTY_SHA256)}\r\n`;
      this.state = this.options.trailer ? 'trailer' : 'final-line';
      return;
    }
    this.decoded += size;
    const expected = this.options.decodedContentLength;
    if (expected !== undefined && this.decoded > expected) {
      throw new AirlockError('InvalidRequest', `The chunks carry more than the ${expected} bytes x-amz-decoded-content-length announces.`);
    }
    this.remaining = size;
    this.hash = createHash('sha256');
    this.state = 'data';
  }

  private endChunk(): void {
    const digest = this.hash?.digest('hex') ?? EMPTY_SHA256;
    this.verifier.chunk(digest, this.providedSignature);
    this.push(`${this.sizeText};chunk-signature=${this.signer.chunk(digest)}\r\n`, 'latin1');
    for (const part of this.parts) this.push(part);
    this.push(CRLF);
    this.parts = [];
    this.hash = undefined;
    this.crlfMatched = 0;
    this.state = 'size-line';
  }

  private trailerLine(line: string): void {
    this.trailerBytes += line.length + 2;
    if (this.trailerBytes > MAX_TRAILER_BYTES) throw malformed('the trailer is too long');
    if (line === '') {
      // Tolerated only before any trailing header (some encoders close the final chunk with an empty line first).
      if (this.trailerCanonical !== '') throw malformed('the trailer has no x-amz-trailer-signature');
      this.trailerRaw.push(line);
      return;
    }
    const colon = line.indexOf(':');
    if (colon <= 0) throw malformed('a trailing header is not name:value');
    const name = line.slice(0, colon).trim().toLowerCase();
    const value = line.slice(colon + 1).trim();
    if (name !== TRAILER_SIGNATURE) {
      this.trailerRaw.push(line);
      this.trailerCanonical += `${name}:${value}\n`;
      return;
    }
    if (!/^[0-9a-f]{64}$/.test(value)) throw malformed('x-amz-trailer-signature is not 64 hex digits');
    this.verifier.trailer(this.trailerCanonical, value);
    const signature = this.signer.trailer(this.trailerCanonical);
    // Only the 64 digits change, so the line keeps its length whatever spacing the client used.
    const lines = [...this.trailerRaw, `${line.slice(0, colon + 1)}${line.slice(colon + 1).replace(value, signature)}`];
    this.push(`${this.finalLine}${lines.map((text) => `${text}\r\n`).join('')}`, 'latin1');
    this.state = 'trailer-end';
  }
}

function malformed(reason: string): AirlockError {
  return new AirlockError('InvalidRequest', `The aws-chunked body is malformed: ${reason}.`);
}
