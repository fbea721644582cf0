import { createHash, randomBytes } from 'node:crypto';
import { Readable, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { Hash } from '@smithy/hash-node';
import { SignatureV4 } from '@smithy/signature-v4';
import { describe, expect, it } from 'vitest';
import { AirlockError } from '@airlock/errors';
import {
  STREAMING_SIGNED_PAYLOAD,
  chunkSignature,
  chunkSigningContext,
  createChunkSigner,
  createChunkVerifier,
  reframeSignedChunks,
  trailerSignature,
  type ChunkSigningContext,
} from './chunked.js';
import { parseAuthorization } from './parse-authorization.js';
import { verifySignature } from './verify.js';

// The examples of the S3 API reference: "Signature Calculations for the Authorization Header: Transferring Payload in
// Multiple Chunks (Chunked Upload)" (PUT Object, 66560 bytes of 'a' as a 64 KiB chunk, a 1 KiB chunk and the final
// empty one) and "Signature calculations for trailing headers" (the same upload with a CRC32C trailer).
const DOC_SECRET = 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY';
const DOC_DATE = '20130524T000000Z';
const DOC_SCOPE = { date: '20130524', region: 'us-east-1', service: 's3' };
const DOC = {
  seed: '4f232c4386841ef735655705268965c44a0e4690baa4adea153f7db9fa80a0a9',
  chunks: [
    'ad80c730a21e5b8d04586a2213dd63b9a0e99e0e2307b0ade35a65485a288648',
    '0055627c9e194cb4542bae2aa5492e3c1575bbb81b612b7d234b86a503ef5497',
    'b6c6ea8a5354eaf15b3cb7646744f4275b71ea724fed81ceb9323e279d449df9',
  ],
};
const DOC_TRAILER = {
  seed: '106e2a8a18243abcf37539882f36619c00e2dfc72633413f02d3b74544bfeb8e',
  chunks: [
    'b474d8862b1487a5145d686f57f013e54db672cee1c953b3010fb58501ef5aa2',
    '1c1344b170168f8e65b41376b44b20fe354e373826ccbbe2c1d40a8cae51e5c7',
    '2ca2aba2005185cf7159c6277faf83795951dd77a3a99e6e65d5c9f85863f992',
  ],
  trailer: 'x-amz-checksum-crc32c:sOO8/Q==',
  trailerSignature: 'd81f82fc3505edab99d459891051a732e8730629a2e4a59689829ca17fe2e435',
};
const DATA = Buffer.alloc(66_560, 'a');

function frame(sizes: number[], signatures: string[], data: Buffer, trailer?: { lines: string[]; signature: string }): Buffer {
  const parts: Buffer[] = [];
  let offset = 0;
  sizes.forEach((size, index) => {
    parts.push(Buffer.from(`${size.toString(16)};chunk-signature=${signatures[index]}\r\n`), data.subarray(offset, offset + size), Buffer.from('\r\n'));
    offset += size;
  });
  parts.push(Buffer.from(`0;chunk-signature=${signatures[sizes.length]}\r\n`));
  if (trailer) parts.push(Buffer.from(`${[...trailer.lines, `x-amz-trailer-signature:${trailer.signature}`].join('\r\n')}\r\n\r\n`));
  else parts.push(Buffer.from('\r\n'));
  return Buffer.concat(parts);
}

const docBody = () => frame([65_536, 1_024], DOC.chunks, DATA);
const docTrailerBody = () => frame([65_536, 1_024], DOC_TRAILER.chunks, DATA, { lines: [DOC_TRAILER.trailer], signature: DOC_TRAILER.trailerSignature });
const docContext = (seed: string) => chunkSigningContext(DOC_SECRET, DOC_SCOPE, DOC_DATE, seed);

/** Runs a body through the reframer in pieces of `split` bytes; resolves what came out, or the error and what came out before it. */
async function reframe(body: Buffer, options: Parameters<typeof reframeSignedChunks>[0], split: number | number[] = 65_536): Promise<{ output: Buffer; error?: unknown }> {
  const pieces: Buffer[] = [];
  const sizes = Array.isArray(split) ? split : [split];
  for (let offset = 0, index = 0; offset < body.length; index++) {
    const size = sizes[index % sizes.length] ?? 1;
    pieces.push(body.subarray(offset, offset + size));
    offset += size;
  }
  const out: Buffer[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _encoding, callback) {
      out.push(Buffer.from(chunk));
      callback();
    },
  });
  try {
    await pipeline(Readable.from(pieces), reframeSignedChunks(options), sink);
    return { output: Buffer.concat(out) };
  } catch (error) {
    return { output: Buffer.concat(out), error };
  }
}

function decode(body: Buffer): { data: Buffer; signatures: string[]; rest: string } {
  const data: Buffer[] = [];
  const signatures: string[] = [];
  let offset = 0;
  for (;;) {
    const end = body.indexOf('\r\n', offset);
    const [size, signature] = body.subarray(offset, end).toString('latin1').split(';chunk-signature=') as [string, string];
    signatures.push(signature);
    offset = end + 2;
    const length = Number.parseInt(size, 16);
    if (length === 0) return { data: Buffer.concat(data), signatures, rest: body.subarray(offset).toString('latin1') };
    data.push(body.subarray(offset, offset + length));
    offset += length + 2;
  }
}

function codeOf(error: unknown): string | undefined {
  return error instanceof AirlockError ? error.code : undefined;
}

/** An independent oracle: smithy's signer (the AWS SDK for JavaScript's) signs a string with its own key derivation. */
async function smithySign(secret: string, amzDate: string, region: string, service: string, stringToSign: string): Promise<string> {
  const signer = new SignatureV4({ service, region, credentials: { accessKeyId: 'unused', secretAccessKey: secret }, sha256: Hash.bind(null, 'sha256') });
  const when = new Date(`${amzDate.slice(0, 4)}-${amzDate.slice(4, 6)}-${amzDate.slice(6, 8)}T${amzDate.slice(9, 11)}:${amzDate.slice(11, 13)}:${amzDate.slice(13, 15)}Z`);
  return signer.sign(stringToSign, { signingDate: when, signingRegion: region, signingService: service });
}

const sha256 = (data: Buffer | string) => createHash('sha256').update(data).digest('hex');

describe('chunk signatures, against the AWS documentation examples', () => {
  it('verifies the documented seed signature of the PUT Object example', () => {
    const head = {
      method: 'PUT',
      rawPath: '/examplebucket/chunkObject.txt',
      rawQuery: '',
      headers: {
        host: 's3.amazonaws.com',
        'x-amz-date': DOC_DATE,
        'x-amz-storage-class': 'REDUCED_REDUNDANCY',
        authorization: `AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request,SignedHeaders=content-encoding;content-length;host;x-amz-content-sha256;x-amz-date;x-amz-decoded-content-length;x-amz-storage-class,Signature=${DOC.seed}`,
        'x-amz-content-sha256': STREAMING_SIGNED_PAYLOAD,
        'content-encoding': 'aws-chunked',
        'x-amz-decoded-content-length': '66560',
        'content-length': '66824',
      },
    };
    expect(() => verifySignature(head, parseAuthorization(head), DOC_SECRET, { now: new Date('2013-05-24T00:00:00Z') })).not.toThrow();
    expect(docBody()).toHaveLength(66_824);
  });

  it('computes the documented chunk signatures', () => {
    const context = docContext(DOC.seed);
    const first = chunkSignature(context, DOC.seed, sha256(DATA.subarray(0, 65_536)));
    const second = chunkSignature(context, first, sha256(DATA.subarray(65_536)));
    const final = chunkSignature(context, second, sha256(''));
    expect([first, second, final]).toEqual(DOC.chunks);
  });

  it('computes the documented trailer example, trailer signature included', () => {
    const signer = createChunkSigner(docContext(DOC_TRAILER.seed));
    const chunks = [signer.chunk(sha256(DATA.subarray(0, 65_536))), signer.chunk(sha256(DATA.subarray(65_536))), signer.chunk(sha256(''))];
    expect(chunks).toEqual(DOC_TRAILER.chunks);
    expect(signer.trailer(`${DOC_TRAILER.trailer}\n`)).toBe(DOC_TRAILER.trailerSignature);
    expect(trailerSignature(docContext(DOC_TRAILER.seed), DOC_TRAILER.chunks[2]!, `${DOC_TRAILER.trailer}\n`)).toBe(DOC_TRAILER.trailerSignature);
  });

  it('verifies a chain and refuses a signature out of order', () => {
    const verifier = createChunkVerifier(docContext(DOC.seed));
    expect(() => verifier.chunk(sha256(DATA.subarray(0, 65_536)), DOC.chunks[0]!)).not.toThrow();
    // The second chunk's data with the first's signature: the chain has moved on.
    expect(() => verifier.chunk(sha256(DATA.subarray(65_536)), DOC.chunks[0]!)).toThrow(expect.objectContaining({ code: 'SignatureDoesNotMatch' }) as Error);
  });

  it('agrees with smithy (the AWS SDK for JavaScript) on the signing key and the HMAC', async () => {
    const context = docContext(DOC.seed);
    const stringToSign = `AWS4-HMAC-SHA256-PAYLOAD\n${DOC_DATE}\n20130524/us-east-1/s3/aws4_request\n${DOC.seed}\n${sha256('')}\n${sha256(DATA.subarray(0, 65_536))}`;
    expect(await smithySign(DOC_SECRET, DOC_DATE, 'us-east-1', 's3', stringToSign)).toBe(chunkSignature(context, DOC.seed, sha256(DATA.subarray(0, 65_536))));
  });
});

describe('reframeSignedChunks', () => {
  const identity = (seed: string) => ({ incoming: docContext(seed), outgoing: docContext(seed) });

  it('passes the documented body through unchanged when both chains are the same', async () => {
    const { output, error } = await reframe(docBody(), { ...identity(DOC.seed), trailer: false, decodedContentLength: 66_560 });
    expect(error).toBeUndefined();
    expect(output.equals(docBody())).toBe(true);
  });

  it('passes the documented trailer body through unchanged', async () => {
    const { output, error } = await reframe(docTrailerBody(), { ...identity(DOC_TRAILER.seed), trailer: true, decodedContentLength: 66_560 });
    expect(error).toBeUndefined();
    expect(output.equals(docTrailerBody())).toBe(true);
  });

  it('is indifferent to where the input is split', async () => {
    const body = docTrailerBody();
    for (const split of [1, 2, 3, 7, 85, 86, 87, 88, 89, 777, 65_535, 65_624, 65_625, body.length, [1, 88, 3, 65_536, 2, 5]]) {
      const { output, error } = await reframe(body, { ...identity(DOC_TRAILER.seed), trailer: true, decodedContentLength: 66_560 }, split);
      expect(error, `split ${JSON.stringify(split)}`).toBeUndefined();
      expect(output.equals(body), `split ${JSON.stringify(split)}`).toBe(true);
    }
    // Random cut points, a few rounds.
    for (let round = 0; round < 20; round++) {
      const cuts = Array.from({ length: 12 }, () => 1 + Math.floor(Math.random() * 9000));
      const { output, error } = await reframe(body, { ...identity(DOC_TRAILER.seed), trailer: true }, cuts);
      expect(error, `cuts ${cuts.join(',')}`).toBeUndefined();
      expect(output.equals(body)).toBe(true);
    }
  });

  it('re-signs for another key: same length and data, a chain that verifies under the new key, as smithy computes it', async () => {
    const vendedSecret = 'vended/secret+key0123456789abcdefghijklmn';
    const outgoing = chunkSigningContext(vendedSecret, { date: '20260301', region: 'eu-west-1', service: 's3' }, '20260301T100000Z', 'f'.repeat(64));
    for (const [body, trailer, seed] of [[docBody(), false, DOC.seed], [docTrailerBody(), true, DOC_TRAILER.seed]] as const) {
      const { output, error } = await reframe(body, { incoming: docContext(seed), outgoing, trailer, decodedContentLength: 66_560 }, 1000);
      expect(error).toBeUndefined();
      expect(output).toHaveLength(body.length);
      const decoded = decode(output);
      expect(decoded.data.equals(DATA)).toBe(true);
      expect(decoded.signatures).not.toContain(DOC.chunks[0]);
      // Verifying the output with the new chain proves every signature in it, trailer included.
      const again = await reframe(output, { incoming: outgoing, outgoing, trailer }, 4096);
      expect(again.error).toBeUndefined();
      expect(again.output.equals(output)).toBe(true);
      const first = await smithySign(vendedSecret, '20260301T100000Z', 'eu-west-1', 's3', `AWS4-HMAC-SHA256-PAYLOAD\n20260301T100000Z\n20260301/eu-west-1/s3/aws4_request\n${'f'.repeat(64)}\n${sha256('')}\n${sha256(DATA.subarray(0, 65_536))}`);
      expect(decoded.signatures[0]).toBe(first);
      if (trailer) expect(decoded.rest.startsWith(`${DOC_TRAILER.trailer}\r\nx-amz-trailer-signature:`)).toBe(true);
    }
  });

  it('refuses a tampered chunk before any of it leaves, and keeps back the chunks after it', async () => {
    const body = docBody();
    const tampered = Buffer.from(body);
    tampered[65_536 + 88 + 2 + 86 + 10] = 0x62; // a byte of the second chunk's data
    const { output, error } = await reframe(tampered, { ...identity(DOC.seed), trailer: false }, 4096);
    expect(codeOf(error)).toBe('SignatureDoesNotMatch');
    // Exactly the first chunk (88 bytes of header, 65536 of data, CRLF) went out.
    expect(output.equals(body.subarray(0, 88 + 65_536 + 2))).toBe(true);
  });

  it('keeps back the final chunk until it is verified, so a reader never sees a complete body that was not signed', async () => {
    const badFinal = frame([65_536, 1_024], [DOC.chunks[0]!, DOC.chunks[1]!, 'e'.repeat(64)], DATA);
    const result = await reframe(badFinal, { ...identity(DOC.seed), trailer: false });
    expect(codeOf(result.error)).toBe('SignatureDoesNotMatch');
    expect(result.output.includes('\r\n0;chunk-signature=')).toBe(false);
    expect(result.output.length).toBe(badFinal.length - 86);
  });

  it('refuses a changed trailer value and a wrong trailer signature, holding back the end of the body', async () => {
    const options = { ...identity(DOC_TRAILER.seed), trailer: true };
    const changed = Buffer.from(docTrailerBody().toString('latin1').replace('sOO8/Q==', 'sOO8/A=='), 'latin1');
    const wrong = Buffer.from(docTrailerBody().toString('latin1').replace(DOC_TRAILER.trailerSignature, 'a'.repeat(64)), 'latin1');
    for (const body of [changed, wrong]) {
      const { output, error } = await reframe(body, options);
      expect(codeOf(error)).toBe('SignatureDoesNotMatch');
      expect(output.includes('\r\n0;chunk-signature=')).toBe(false);
    }
  });

  it('refuses chunks signed with another key (a wrong seed) from the first chunk on', async () => {
    const { output, error } = await reframe(docBody(), { incoming: chunkSigningContext('another secret', DOC_SCOPE, DOC_DATE, DOC.seed), outgoing: docContext(DOC.seed), trailer: false });
    expect(codeOf(error)).toBe('SignatureDoesNotMatch');
    expect(output).toHaveLength(0);
  });

  it('refuses malformed framing with InvalidRequest', async () => {
    const options = { ...identity(DOC.seed), trailer: false };
    const body = docBody();
    const cases: [string, Buffer, Partial<Parameters<typeof reframeSignedChunks>[0]>?][] = [
      ['truncated', body.subarray(0, body.length - 30)],
      ['truncated inside the data', body.subarray(0, 1000)],
      ['no CRLF after data', Buffer.from(body.toString('latin1').replace(`${'a'.repeat(10)}\r\n400;`, `${'a'.repeat(10)}XX400;`), 'latin1')],
      ['trailing garbage', Buffer.concat([body, Buffer.from('x')])],
      ['upper-case signature', Buffer.from(body.toString('latin1').replace(DOC.chunks[0]!, DOC.chunks[0]!.toUpperCase()), 'latin1')],
      ['no signature', Buffer.from('10000\r\n')],
      ['a huge line', Buffer.alloc(10_000, '1')],
      ['decoded length too small', body, { decodedContentLength: 66_559 }],
      ['decoded length too large', body, { decodedContentLength: 66_561 }],
      ['a chunk larger than allowed', body, { maxChunkSize: 65_535 }],
      ['a trailer without its signature', frame([65_536, 1_024], DOC_TRAILER.chunks, DATA).subarray(0, -2), { incoming: docContext(DOC_TRAILER.seed), outgoing: docContext(DOC_TRAILER.seed), trailer: true }],
    ];
    for (const [name, input, extra] of cases) {
      const { error } = await reframe(input, { ...options, ...extra }, 333);
      expect(codeOf(error), name).toBe('InvalidRequest');
    }
  });

  it('streams: a chunk leaves as soon as it is verified, long before the body ends', async () => {
    const context = docContext(DOC.seed);
    const signer = createChunkSigner(context);
    const chunkSize = 64 * 1024;
    const count = 64;
    const produced: string[] = [];
    async function* body(): AsyncGenerator<Buffer> {
      for (let index = 0; index < count; index++) {
        const data = randomBytes(chunkSize);
        produced.push(`in ${index}`);
        yield Buffer.concat([Buffer.from(`${chunkSize.toString(16)};chunk-signature=${signer.chunk(sha256(data))}\r\n`), data, Buffer.from('\r\n')]);
      }
      produced.push('in final');
      yield Buffer.from(`0;chunk-signature=${signer.chunk(sha256(''))}\r\n\r\n`);
    }
    let bytesOut = 0;
    await pipeline(
      Readable.from(body()),
      reframeSignedChunks({ incoming: context, outgoing: context, trailer: false, decodedContentLength: chunkSize * count }),
      new Writable({
        highWaterMark: 1,
        write(chunk: Buffer, _encoding, callback) {
          if (bytesOut === 0) produced.push('out first');
          bytesOut += chunk.length;
          callback();
        },
      }),
    );
    // The first output arrived while the producer was still at its first chunks, not after the last.
    expect(produced.indexOf('out first')).toBeLessThan(4);
    expect(bytesOut).toBe(count * (chunkSize + 5 + 17 + 64 + 4) + 1 + 17 + 64 + 4);
  });
});

describe('signing contexts', () => {
  it('carry the scope string and derived key; chunk signatures never depend on the access key id', () => {
    const context: ChunkSigningContext = docContext(DOC.seed);
    expect(context.scope).toBe('20130524/us-east-1/s3/aws4_request');
    expect(context.amzDate).toBe(DOC_DATE);
    expect(context.signingKey).toHaveLength(32);
  });
});
