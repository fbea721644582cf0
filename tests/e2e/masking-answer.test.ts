import { createHash } from 'node:crypto';
import { createServer, request, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Readable } from 'node:stream';
import { crc32 } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger } from '@airlock/logging';
import { createMaskingService } from '@airlock/masking';
import { bindInProcess } from '@airlock/transport';
import { sendAnswer, type AnswerPlan, type AnswerResult } from '../../services/edge-proxy/src/answer.js';

/**
 * How the edge sends a masked answer (services/edge-proxy/src/answer.ts), against the real masking service bound in
 * process and a real HTTP connection: headers that describe the bytes are recomputed over the masked body (or dropped
 * when they cannot be), an answer masking did not change keeps the upstream's own, a long answer streams, and a
 * masking failure withholds the answer (strict) or, in open mode, lets an answer still held whole pass unmasked.
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

beforeAll(async () => {
  const service = await createMaskingService({ logger });
  masking = bindInProcess(service.definition, service.implementation);
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
    expect(got.result?.masked).toEqual([{ kind: 'aws-access-key-id', rule: 'detector:aws-access-key-id', location: '', count: 1 }]);
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
