import { createHash } from 'node:crypto';
import { createServer, request, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Readable } from 'node:stream';
import { crc32 } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { MaskRequest } from '@airlock/contracts';
import { createLogger } from '@airlock/logging';
import { createMaskingService } from '@airlock/masking';
import { bindInProcess } from '@airlock/transport';
import { sendAnswer, widenForMasking, type AnswerPlan, type AnswerResult } from '../../services/edge-proxy/src/answer.js';
import type { UpstreamResponse } from '../../services/edge-proxy/src/forward.js';

/**
 * How the edge sends a masked answer (services/edge-proxy/src/answer.ts), against the real masking service bound in
 * process and a real HTTP connection: headers that describe the bytes are recomputed over the masked body (or dropped
 * when they cannot be), an answer masking did not change keeps the upstream's own, a long answer streams, and a
 * masking failure withholds the answer (strict) or, in open mode, lets an answer still held whole pass unmasked.
 * Ranged reads too, for what moto does not do (masking-ranges.test.ts reads ranges from moto): partial answers the
 * edge did not widen (`partNumber` reads of multipart objects, which moto answers whole), a 200 to a ranged request,
 * masking failures of a ranged answer, and masking services that do not keep lengths.
 */

const logger = createLogger({ service: 'masking-answer-test', level: 'silent' });
const secretKey = 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY';

interface Upstream {
  status?: number;
  headers: IncomingHttpHeaders;
  chunks: Buffer[];
}
interface Received {
  status: number;
  headers: IncomingHttpHeaders;
  body: Buffer;
  result?: AnswerResult;
  error?: { code?: string; message?: string };
}

let server: Server;
let next: { upstream: Upstream; plan: Partial<AnswerPlan> };
let outcome: { result?: AnswerResult; error?: { code?: string; message?: string } };
let masking: AnswerPlan['masking'];
/** A masking service that ignores `ranged` (its markers have their own length) but gives a margin. */
let lengthless: AnswerPlan['masking'];
/** A masking service from before ranged reads: no `ranged`, no margin. */
let older: AnswerPlan['masking'];

beforeAll(async () => {
  const service = await createMaskingService({ logger });
  masking = bindInProcess(service.definition, service.implementation);
  const mask: typeof service.implementation.mask = (requests, context) =>
    service.implementation.mask(
      (async function* (): AsyncIterable<MaskRequest> {
        for await (const message of requests) {
          yield message.part?.$case === 'header' ? { part: { $case: 'header', value: { ...message.part.value, ranged: false } } } : message;
        }
      })(),
      context,
    );
  lengthless = bindInProcess(service.definition, { plan: service.implementation.plan, mask });
  older = bindInProcess(service.definition, { plan: async (planned, context) => ({ ...(await service.implementation.plan(planned, context)), rangeMargin: 0 }), mask });
  server = createServer((incoming, response) => {
    const { upstream, plan } = next;
    const body = Readable.from(upstream.chunks);
    sendAnswer({ statusCode: upstream.status ?? 200, headers: upstream.headers, body }, response, {
      masking,
      profile: 'default',
      service: 'dynamodb',
      operation: 'GetItem',
      method: incoming.method ?? 'GET',
      signal: new AbortController().signal,
      failure: 'strict',
      holdBytes: 1024 * 1024,
      logger,
      ...plan,
    }).then(
      (result) => {
        outcome = { result };
      },
      (error: { code?: string; message?: string }) => {
        outcome = { error: { code: error.code, message: error.message } };
        // What the pipeline does: an error answer while nothing was sent, else the connection is cut.
        if (response.headersSent) response.destroy();
        else {
          response.writeHead(503, { 'content-type': 'text/plain' });
          response.end('withheld');
        }
      },
    );
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
});

afterAll(async () => {
  await new Promise((resolve) => server.close(resolve));
});

async function send(upstream: Upstream, plan: Partial<AnswerPlan> = {}): Promise<Received> {
  next = { upstream, plan };
  outcome = {};
  const { port } = server.address() as AddressInfo;
  const { status, headers, body } = await new Promise<{ status: number; headers: IncomingHttpHeaders; body: Buffer }>((resolve) => {
    const call = request({ host: '127.0.0.1', port, path: '/', method: 'GET' }, (response) => {
      // Whatever arrived, also from an answer cut off midway.
      const parts: Buffer[] = [];
      response.on('data', (part: Buffer) => parts.push(part));
      response.on('error', () => {});
      response.on('close', () => resolve({ status: response.statusCode ?? 0, headers: response.headers, body: Buffer.concat(parts) }));
    });
    // A connection cut before the answer's head arrived: nothing was received.
    call.on('error', () => resolve({ status: 0, headers: {}, body: Buffer.alloc(0) }));
    call.end();
  });
  return { status, headers, body, ...outcome };
}

const base64 = (value: number) => {
  const bytes = Buffer.alloc(4);
  bytes.writeUInt32BE(value >>> 0);
  return bytes.toString('base64');
};

describe('the edge sends masked answers', () => {
  it('recomputes DynamoDB x-amz-crc32 and Content-Length over the masked body it held', async () => {
    const original = Buffer.from(JSON.stringify({ Item: { pk: { S: 'a' }, key: { S: 'AKIAIOSFODNN7EXAMPLE' } } }));
    const got = await send({
      headers: { 'content-type': 'application/x-amz-json-1.0', 'content-length': String(original.length), 'x-amz-crc32': String(crc32(original)) },
      chunks: [original.subarray(0, 20), original.subarray(20)],
    });
    expect(got.body.toString()).toBe('{"Item":{"pk":{"S":"a"},"key":{"S":"[MASKED:aws-access-key-id]"}}}');
    expect(got.headers['x-amz-crc32']).toBe(String(crc32(got.body)));
    expect(got.headers['content-length']).toBe(String(got.body.length));
    expect(got.result?.masked).toEqual([{ kind: 'aws-access-key-id', rule: 'detector:aws-access-key-id', location: 'Item.key.S', count: 1 }]);
    expect(got.result?.unmasked).toBeUndefined();
  });

  it('recomputes the S3 checksums it can (CRC32, SHA-256, Content-MD5), drops the rest, and keeps the ETag', async () => {
    const original = Buffer.from(JSON.stringify({ SecretAccessKey: secretKey }));
    const got = await send(
      {
        headers: {
          'content-type': 'application/json',
          etag: '"abc"',
          'content-md5': createHash('md5').update(original).digest('base64'),
          'x-amz-checksum-crc32': base64(crc32(original)),
          'x-amz-checksum-sha256': createHash('sha256').update(original).digest('base64'),
          'x-amz-checksum-crc32c': 'AAAAAA==',
          'x-amz-checksum-type': 'FULL_OBJECT',
        },
        chunks: [original],
      },
      { service: 's3', operation: 'GetObject' },
    );
    expect(got.body.toString()).toBe('{"SecretAccessKey":"[MASKED:aws-secret-key]"}');
    expect(got.headers).toMatchObject({
      etag: '"abc"',
      'content-md5': createHash('md5').update(got.body).digest('base64'),
      'x-amz-checksum-crc32': base64(crc32(got.body)),
      'x-amz-checksum-sha256': createHash('sha256').update(got.body).digest('base64'),
    });
    expect(got.headers['x-amz-checksum-crc32c']).toBeUndefined();
    expect(got.headers['x-amz-checksum-type']).toBeUndefined();
  });

  it('keeps every upstream header of an answer masking did not change', async () => {
    const original = Buffer.from('{"Item":{"pk":{"S":"plain"}}}');
    const headers = { 'content-type': 'application/x-amz-json-1.0', 'x-amz-crc32': String(crc32(original)), 'x-amz-checksum-crc32c': 'AAAAAA==' };
    const got = await send({ headers, chunks: [original] });
    expect(got.body.equals(original)).toBe(true);
    expect(got.headers).toMatchObject(headers);
  });

  it('streams an answer longer than holdBytes, without headers that describe the bytes', async () => {
    const original = Buffer.from(JSON.stringify({ Items: Array.from({ length: 200 }, (_, i) => ({ n: { S: `AKIAIOSFODNN7EXAMPL${i % 10}` } })) }));
    const got = await send({ headers: { 'content-type': 'application/x-amz-json-1.0', 'content-length': String(original.length), 'x-amz-crc32': '1' }, chunks: [original] }, { holdBytes: 256, operation: 'Scan' });
    expect(got.headers['transfer-encoding']).toBe('chunked');
    expect(got.headers['content-length']).toBeUndefined();
    expect(got.headers['x-amz-crc32']).toBeUndefined();
    expect(got.body.toString()).not.toContain('AKIA');
    expect(got.result?.masked[0]?.count).toBe(200);
  });
});

describe('a masking failure', () => {
  const secret = Buffer.from('{"Name":"db" "SecretString":"hunter2-is-secret"}');
  const secretsAnswer = { headers: { 'content-type': 'application/x-amz-json-1.1', 'content-length': String(secret.length) }, chunks: [secret] };

  it('withholds the answer in strict mode: no byte of it is sent', async () => {
    for (const plan of [{ profile: 'no-such-profile' }, { service: 'secretsmanager', operation: 'GetSecretValue' }]) {
      const got = await send(secretsAnswer, plan);
      expect(got.error).toMatchObject({ code: 'DependencyUnavailable', message: expect.stringContaining('withheld') });
      expect(got.status).toBe(503);
      expect(got.body.toString()).not.toContain('hunter2');
    }
  });

  it('lets an answer held whole pass unmasked in open mode, with its own headers', async () => {
    for (const plan of [{ profile: 'no-such-profile' }, { service: 'secretsmanager', operation: 'GetSecretValue' }]) {
      const got = await send(secretsAnswer, { ...plan, failure: 'open' });
      expect(got.error).toBeUndefined();
      expect(got.body.equals(secret)).toBe(true);
      expect(got.headers['content-length']).toBe(String(secret.length));
      // The call's record says the answer went out unmasked, and why.
      expect(got.result?.unmasked).toMatch(/\S/);
      expect(got.result?.unmasked).not.toContain('hunter2-is-secret');
    }
  });

  it('withholds in open mode an answer it could not have held whole when masking cannot even plan', async () => {
    const unsized = { headers: { 'content-type': 'application/x-amz-json-1.1' }, chunks: [secret] };
    const got = await send(unsized, { profile: 'no-such-profile', failure: 'open' });
    expect(got.status).toBe(503);
    expect(got.error).toMatchObject({ code: 'DependencyUnavailable', message: expect.stringContaining('withheld') });
    expect(got.body.toString()).not.toContain('hunter2');
  });

  it('cuts off, rather than sends unmasked, an answer that was already streaming', async () => {
    const long = Buffer.from(`{"Name":"${'n'.repeat(8192)}","SecretString":"hunter2-is-secret" oops}`);
    const got = await send(
      { headers: { 'content-type': 'application/x-amz-json-1.1' }, chunks: [long.subarray(0, 4200), long.subarray(4200)] },
      { service: 'secretsmanager', operation: 'GetSecretValue', holdBytes: 1024, failure: 'open' },
    );
    // The head and some masked bytes may or may not have reached the client before the connection was cut.
    expect([0, 200]).toContain(got.status);
    expect(got.body.length).toBeLessThan(long.length);
    expect(got.body.toString()).not.toContain('hunter2');
    expect(got.error?.code).toBe('DependencyUnavailable');
  });
});

const objectRead = { service: 's3', operation: 'GetObject', holdBytes: 64 * 1024 };
const accessKeyId = 'AKIAZ7XQ2LPM4NV8RTY3';
/** A text object with an access key id across byte 100 000 (a part boundary below) and one at byte 150 000. */
const text = Buffer.alloc(200_000, 'log line ok\n');
text.write(` ${accessKeyId} `, 100_000 - 11, 'latin1');
text.write(` ${accessKeyId} `, 150_000, 'latin1');
/** The object as ranged reads show it: each key replaced by its marker, cut to the key's length. */
const maskedInPlace = Buffer.from(text);
for (const at of [100_000 - 10, 150_001]) maskedInPlace.write('[MASKED:aws-access-k', at, 'latin1');
const etag = '"0123456789abcdef"';

/** What S3 answers for bytes `first`-`last` of the object. */
function part(first: number, last: number, headers: IncomingHttpHeaders = {}): Upstream {
  const bytes = text.subarray(first, last + 1);
  return {
    status: 206,
    headers: { 'content-type': 'text/plain', etag, 'content-range': `bytes ${first}-${last}/${text.length}`, 'content-length': String(bytes.length), ...headers },
    chunks: [bytes.subarray(0, 1000), bytes.subarray(1000)],
  };
}
const answered = ({ status, headers, chunks }: Upstream): UpstreamResponse => ({ statusCode: status ?? 200, headers, body: Readable.from(chunks) });

const objectPlan = (): AnswerPlan => ({
  masking,
  profile: 'default',
  method: 'GET',
  signal: new AbortController().signal,
  failure: 'strict',
  logger,
  ...objectRead,
});
const margin = async () => (await masking.plan({ profile: 'default', service: 's3', operation: 'GetObject', contentType: '' })).rangeMargin;

describe('widening a ranged read before it is forwarded', () => {
  it('widens one byte range by the profile margin, and leaves HEAD, other methods and the "none" profile alone', async () => {
    const m = await margin();
    expect(m).toBeGreaterThan(32 * 1024);
    const widened = await widenForMasking({ range: 'bytes=100000-100099', host: 'x' }, objectPlan());
    expect(widened).toEqual({ headers: { range: `bytes=${100_000 - m}-${100_099 + m}`, host: 'x' }, range: { first: 100_000, last: 100_099 } });
    expect((await widenForMasking({ range: 'bytes=10-' }, objectPlan())).headers.range).toBe('bytes=0-');
    expect((await widenForMasking({ range: 'bytes=-10' }, objectPlan())).headers.range).toBe(`bytes=-${10 + m}`);
    for (const plan of [{ method: 'HEAD' }, { method: 'PUT' }, { profile: 'none' }]) {
      expect(await widenForMasking({ range: 'bytes=5-9' }, { ...objectPlan(), ...plan })).toEqual({ headers: { range: 'bytes=5-9' } });
    }
  });

  it('drops a Range header that is not one byte range, as S3 ignores it', async () => {
    for (const range of ['bytes=0-1,5-9', 'items=0-9', 'bytes=9-5', 'bytes=x']) {
      expect(await widenForMasking({ range, host: 'x' }, objectPlan())).toEqual({ headers: { host: 'x' } });
    }
  });

  it('withholds the call in strict mode when the profile cannot be planned, and forwards it as asked in open mode', async () => {
    await expect(widenForMasking({ range: 'bytes=0-9' }, { ...objectPlan(), profile: 'no-such-profile' })).rejects.toMatchObject({ code: 'DependencyUnavailable' });
    expect(await widenForMasking({ range: 'bytes=0-9' }, { ...objectPlan(), profile: 'no-such-profile', failure: 'open' })).toEqual({ headers: { range: 'bytes=0-9' } });
  });
});

describe('partial answers', () => {
  it('reads a part of a multipart object again with its margins, for the same version, and masks it in place', async () => {
    const m = await margin();
    const asked: { range: string; etag: string }[] = [];
    const refetch = async (range: string, version: string) => {
      asked.push({ range, etag: version });
      return answered(part(100_000 - m, 199_999));
    };
    const got = await send(part(100_000, 149_999, { 'x-amz-mp-parts-count': '2' }), { ...objectRead, refetch });
    expect(asked).toEqual([{ range: `bytes=${100_000 - m}-${149_999 + m}`, etag }]);
    expect(got.status).toBe(206);
    expect(got.headers).toMatchObject({ 'content-range': `bytes 100000-149999/${text.length}`, 'content-length': '50000', 'x-amz-mp-parts-count': '2', etag });
    expect(got.body.equals(maskedInPlace.subarray(100_000, 150_000))).toBe(true);
  });

  it('masks in place, without reading again, a part that is the whole object', async () => {
    const got = await send(part(0, text.length - 1), { ...objectRead, refetch: () => Promise.reject(new Error('not expected')) });
    expect(got.status).toBe(206);
    expect(got.headers['content-length']).toBe(String(text.length));
    expect(got.body.equals(maskedInPlace)).toBe(true);
  });

  it('withholds a part it cannot read again (changed object, no ETag, no way to read)', async () => {
    const changed = async (): Promise<UpstreamResponse> => answered({ status: 412, headers: {}, chunks: [] });
    for (const [upstream, plan] of [
      [part(100_000, 149_999), { refetch: changed }],
      [part(100_000, 149_999, { etag: undefined }), { refetch: () => Promise.resolve(answered(part(0, 199_999))) }],
      [part(100_000, 149_999), {}],
    ] as const) {
      const got = await send(upstream, { ...objectRead, ...plan });
      expect(got.status).toBe(503);
      expect(got.error).toMatchObject({ code: 'DependencyUnavailable' });
      expect(got.body.toString()).toBe('withheld');
    }
  });

  it('passes a 200 to a widened request on whole, masked as a whole answer', async () => {
    const got = await send({ headers: { 'content-type': 'text/plain', 'content-length': String(text.length) }, chunks: [text] }, { ...objectRead, range: { first: 100_000, last: 100_099 } });
    expect(got.status).toBe(200);
    expect(got.body.toString('latin1')).not.toContain(accessKeyId);
    expect(got.body.toString('latin1')).toContain(' [MASKED:aws-access-key-id] ');
  });
});

describe('a ranged answer whose masking fails', () => {
  it('is withheld in strict mode, and in open mode goes out unmasked but cut to the range', async () => {
    const range = { first: 100_000 - 5, last: 100_004 };
    const strict = await send(part(60_000, 140_000), { ...objectRead, range, profile: 'no-such-profile' });
    expect(strict.status).toBe(503);
    expect(strict.body.toString()).toBe('withheld');
    const open = await send(part(60_000, 140_000), { ...objectRead, range, profile: 'no-such-profile', failure: 'open', holdBytes: 1024 * 1024 });
    expect(open.status).toBe(206);
    expect(open.headers['content-range']).toBe(`bytes 99995-100004/${text.length}`);
    expect(open.body.equals(text.subarray(99_995, 100_005))).toBe(true);
    expect(open.result?.unmasked).toMatch(/\S/);
  });

  it('is refused when the masking service does not keep lengths, rather than sent with a false Content-Range', async () => {
    const got = await send(part(50_000, 150_000), { ...objectRead, range: { first: 90_000, last: 110_000 }, masking: lengthless });
    expect(got.status).toBe(503);
    expect(got.error).toMatchObject({ code: 'DependencyUnavailable' });
  });

  it('is refused when the masking service gives no margin for a profile that masks (one from before ranged reads)', async () => {
    // The part starts inside a key: masked without the bytes before it, its tail would pass. (The edge caches plans by
    // profile, service, operation and content type: another operation name gets this service's own plan.)
    const refetch = () => Promise.resolve(answered(part(100_000, 149_999)));
    const got = await send(part(100_000, 149_999), { ...objectRead, operation: 'GetObjectFromOlder', masking: older, refetch });
    expect(got.status).toBe(503);
    expect(got.body.toString()).toBe('withheld');
  });
});
