import { createHash } from 'node:crypto';
import { Hash } from '@smithy/hash-node';
import { HttpRequest } from '@smithy/protocol-http';
import { SignatureV4 } from '@smithy/signature-v4';
import { describe, expect, it } from 'vitest';
import { AirlockError, type AirlockErrorCode } from '@airlock/errors';
import { parseAuthorization } from './parse-authorization.js';
import type { IncomingRequestHead } from './types.js';
import { verifySignature } from './verify.js';

// The credentials, scope and time of the AWS SigV4 test suite (aws-sig-v4-test-suite, also in awslabs/aws-c-auth).
const SUITE = { accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY' };
const SUITE_DATE = '20150830T123600Z';
const SUITE_NOW = new Date('2015-08-30T12:36:00Z');
const SECRET = 'airlock-test-secret-0123456789abcdefghij';
const NOW = new Date('2026-03-01T10:00:00Z');

function sha256(body: string): string {
  return createHash('sha256').update(body).digest('hex');
}

/** RFC 3986 encoding, as the SDK's HTTP handler writes a query string. */
function encode(value: string): string {
  return encodeURIComponent(value).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
}

function suiteRequest(rawPath: string, rawQuery: string, signedHeaders: string, signature: string, extra: Record<string, string> = {}, method = 'GET'): IncomingRequestHead {
  return {
    method,
    rawPath,
    rawQuery,
    headers: {
      host: 'example.amazonaws.com',
      'x-amz-date': SUITE_DATE,
      ...extra,
      authorization: `AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, SignedHeaders=${signedHeaders}, Signature=${signature}`,
    },
  };
}

interface DirectSigning {
  method?: string;
  path: string;
  query?: Record<string, string | string[]>;
  headers?: Record<string, string>;
  body?: string;
  service?: string;
  signableHeaders?: string[];
  /** false mimics botocore: no x-amz-content-sha256 header, the body's hash is signed. */
  applyChecksum?: boolean;
  /** Overrides the signer's path rule, to sign as a client that got it wrong would. */
  uriEscapePath?: boolean;
  date?: Date;
}

/** Signs with smithy's SignatureV4 directly, then shapes the request as the edge would receive it. */
async function signDirect(input: DirectSigning): Promise<IncomingRequestHead> {
  const signer = new SignatureV4({
    service: input.service ?? 'dynamodb',
    region: 'eu-west-1',
    credentials: { accessKeyId: 'ALSATESTTESTTESTTEST', secretAccessKey: SECRET, sessionToken: 'airlock.session' },
    sha256: Hash.bind(null, 'sha256'),
    uriEscapePath: input.uriEscapePath ?? input.service !== 's3',
    applyChecksum: input.applyChecksum ?? true,
  });
  const query = input.query ?? {};
  const signed = await signer.sign(
    new HttpRequest({
      method: input.method ?? 'POST',
      hostname: 'airlock.test',
      path: input.path,
      query,
      headers: { host: 'airlock.test', ...input.headers },
      ...(input.body === undefined ? {} : { body: input.body }),
    }),
    { signingDate: input.date ?? NOW, ...(input.signableHeaders ? { signableHeaders: new Set(input.signableHeaders) } : {}) },
  );
  const rawQuery = Object.entries(query)
    .flatMap(([name, value]) => (Array.isArray(value) ? value : [value]).map((v) => `${encode(name)}=${encode(v)}`))
    .join('&');
  return { method: signed.method, rawPath: signed.path, rawQuery, headers: { ...signed.headers } };
}

function verify(head: IncomingRequestHead, options: { now?: Date; secret?: string; payloadHash?: string; maxSkewMs?: number } = {}): void {
  const parsed = parseAuthorization(head);
  const auth = options.payloadHash === undefined ? parsed : { ...parsed, payloadHash: options.payloadHash };
  verifySignature(head, auth, options.secret ?? SECRET, { now: options.now ?? NOW, ...(options.maxSkewMs === undefined ? {} : { maxSkewMs: options.maxSkewMs }) });
}

function codeOf(attempt: () => void): AirlockErrorCode | 'none' {
  try {
    attempt();
  } catch (error) {
    if (error instanceof AirlockError) return error.code;
    throw error;
  }
  return 'none';
}

describe('verifySignature against the AWS SigV4 test suite', () => {
  const vectors: [string, IncomingRequestHead][] = [
    ['get-vanilla', suiteRequest('/', '', 'host;x-amz-date', '5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31')],
    ['get-vanilla-query-order-key-case', suiteRequest('/', 'Param2=value2&Param1=value1', 'host;x-amz-date', 'b97d918cfa904a5beff61c982a1b6f458b799221646efd99d3219ec94cdf2500')],
    ['get-vanilla-query-order-encoded', suiteRequest('/', 'Param-3=Value3&Param=Value2&%E1%88%B4=Value1', 'host;x-amz-date', '371d3713e185cc334048618a97f809c9ffe339c62934c032af5a0e595648fcac')],
    ['get-header-value-trim', suiteRequest('/', '', 'host;my-header1;my-header2;x-amz-date', 'acc3ed3afb60bb290fc8d2dd0098b9911fcaa05412b367055dee359757a9c736', { 'my-header1': ' value1', 'my-header2': ' "a   b   c"' })],
    ['get-relative-normalized', suiteRequest('/example/..', '', 'host;x-amz-date', '5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31')],
    ['get-slashes-normalized', suiteRequest('//example//', '', 'host;x-amz-date', '9a624bd73a37c9a373b5312afbebe7a714a789de108f0bdfe846570885f57e84')],
    ['post-vanilla-query', suiteRequest('/', 'Param1=value1', 'host;x-amz-date', '28038455d6de14eafc1f9222cf5aa6f1a96197d7deb8263271d420d138af7f11', {}, 'POST')],
  ];
  it.each(vectors)('%s', (_name, head) => {
    verify(head, { now: SUITE_NOW, secret: SUITE.secretAccessKey });
  });

  it('rejects a suite vector with one byte of its signature flipped', () => {
    const head = suiteRequest('/', '', 'host;x-amz-date', '5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf30');
    expect(codeOf(() => verify(head, { now: SUITE_NOW, secret: SUITE.secretAccessKey }))).toBe('SignatureDoesNotMatch');
  });
});

describe('verifySignature', () => {
  it('verifies a JSON-protocol call whose client signed the body hash without declaring it (as botocore does)', async () => {
    const body = '{"TableName":"orders","Key":{"id":{"S":"a b+c"}}}';
    const head = await signDirect({
      path: '/',
      body,
      applyChecksum: false,
      headers: { 'content-type': 'application/x-amz-json-1.0', 'x-amz-target': 'DynamoDB_20120810.GetItem', 'content-length': String(body.length) },
    });
    expect(head.headers['x-amz-content-sha256']).toBeUndefined();
    expect(parseAuthorization(head).payloadHashFromHeader).toBe(false);
    verify(head, { payloadHash: sha256(body) });
    expect(codeOf(() => verify(head))).toBe('SignatureDoesNotMatch');
    expect(codeOf(() => verify(head, { payloadHash: sha256(`${body} `) }))).toBe('SignatureDoesNotMatch');
  });

  it.each(['UNSIGNED-PAYLOAD', 'STREAMING-UNSIGNED-PAYLOAD-TRAILER', 'STREAMING-AWS4-HMAC-SHA256-PAYLOAD', 'STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER'])(
    'verifies the literal payload hash %s',
    async (literal) => {
      const head = await signDirect({ service: 's3', method: 'PUT', path: '/bucket/key', headers: { 'x-amz-content-sha256': literal } });
      expect(parseAuthorization(head).payloadHash).toBe(literal);
      verify(head);
      const other = { ...head, headers: { ...head.headers, 'x-amz-content-sha256': 'UNSIGNED-PAYLOAD' === literal ? 'STREAMING-UNSIGNED-PAYLOAD-TRAILER' : 'UNSIGNED-PAYLOAD' } };
      expect(codeOf(() => verify(other))).toBe('SignatureDoesNotMatch');
    },
  );

  it('verifies headers that smithy would not sign by itself when the client signed them', async () => {
    const head = await signDirect({ method: 'GET', path: '/', headers: { 'user-agent': 'agent/1.0', expect: '100-continue' }, signableHeaders: ['user-agent', 'expect'] });
    expect(parseAuthorization(head).signedHeaders).toEqual(expect.arrayContaining(['user-agent', 'expect']));
    verify(head);
    expect(codeOf(() => verify({ ...head, headers: { ...head.headers, 'user-agent': 'agent/1.1' } }))).toBe('SignatureDoesNotMatch');
  });

  it('ignores headers the client did not sign', async () => {
    const head = await signDirect({ method: 'GET', path: '/', headers: { 'user-agent': 'agent/1.0' } });
    expect(parseAuthorization(head).signedHeaders).not.toContain('user-agent');
    verify({ ...head, headers: { ...head.headers, 'user-agent': 'something else', 'x-forwarded-for': '10.0.0.1' } });
  });

  it('refuses a request that lacks a header it signed', async () => {
    const head = await signDirect({ method: 'GET', path: '/', headers: { 'x-amz-target': 'X.Y' } });
    const { 'x-amz-target': _dropped, ...headers } = head.headers;
    let message = '';
    try {
      verify({ ...head, headers });
    } catch (error) {
      message = (error as AirlockError).message;
    }
    expect(message).toMatch(/signed header 'x-amz-target' is missing/);
  });

  it('double-encodes and normalises the path for other services, but not for S3', async () => {
    // The SDK sends the path once-encoded. A non-S3 service signs it encoded once more and with dot segments removed;
    // S3 signs it exactly as sent (AWS SigV4 docs, "Create a canonical request").
    const path = '/functions/my%20fn%2Bx%3D%C3%A9/./a//b/../c';
    const other = await signDirect({ service: 'lambda', method: 'GET', path });
    const s3 = await signDirect({ service: 's3', method: 'GET', path });
    verify(other);
    verify(s3);
    // The same requests signed with the other rule do not verify.
    const s3Escaped = await signDirect({ service: 's3', method: 'GET', path, uriEscapePath: true });
    const otherUnescaped = await signDirect({ service: 'lambda', method: 'GET', path, uriEscapePath: false });
    expect(codeOf(() => verify(s3Escaped))).toBe('SignatureDoesNotMatch');
    expect(codeOf(() => verify(otherUnescaped))).toBe('SignatureDoesNotMatch');
  });

  it.each(['s3-object-lambda', 's3express'])('applies the S3 path rules to %s too', async (service) => {
    const path = '/bucket/a%20b/./c//d';
    verify(await signDirect({ service, method: 'GET', path, uriEscapePath: false }));
  });

  it('canonicalises repeated and reserved query parameters as the client did', async () => {
    const head = await signDirect({
      method: 'GET',
      path: '/',
      query: { b: '2', a: ['2', '1', 'x y+z'], __proto__name: 'p', 'c~d': "!'()*", empty: '' },
    });
    verify(head);
    const reordered = { ...head, rawQuery: head.rawQuery.split('&').reverse().join('&') };
    verify(reordered);
    expect(codeOf(() => verify({ ...head, rawQuery: head.rawQuery.replace('a=1', 'a=3') }))).toBe('SignatureDoesNotMatch');
    expect(codeOf(() => verify({ ...head, rawQuery: `${head.rawQuery}&extra=1` }))).toBe('SignatureDoesNotMatch');
  });

  it('refuses the wrong secret', async () => {
    const head = await signDirect({ method: 'GET', path: '/' });
    expect(codeOf(() => verify(head, { secret: `${SECRET}x` }))).toBe('SignatureDoesNotMatch');
  });

  it('allows 15 minutes of clock skew either way and no more', async () => {
    const head = await signDirect({ method: 'GET', path: '/' });
    const minutes = (n: number) => new Date(NOW.getTime() + n * 60_000);
    expect(codeOf(() => verify(head, { now: minutes(15) }))).toBe('none');
    expect(codeOf(() => verify(head, { now: minutes(-15) }))).toBe('none');
    expect(codeOf(() => verify(head, { now: minutes(16) }))).toBe('RequestTimeTooSkewed');
    expect(codeOf(() => verify(head, { now: minutes(-16) }))).toBe('RequestTimeTooSkewed');
    expect(codeOf(() => verify(head, { now: minutes(2), maxSkewMs: 60_000 }))).toBe('RequestTimeTooSkewed');
  });

  it('reports skew for a request signed 16 minutes ago, and says when', async () => {
    const head = await signDirect({ method: 'GET', path: '/', date: new Date(NOW.getTime() - 16 * 60_000) });
    try {
      verify(head);
      expect.unreachable();
    } catch (error) {
      expect(error).toBeInstanceOf(AirlockError);
      expect((error as AirlockError).code).toBe('RequestTimeTooSkewed');
      expect((error as AirlockError).details).toEqual({ requestTime: '2026-03-01T09:44:00.000Z', serverTime: '2026-03-01T10:00:00.000Z' });
    }
  });

  it('never puts the secret or the session token in an error', async () => {
    const head = await signDirect({ method: 'GET', path: '/', headers: { 'x-amz-target': 'X.Y' } });
    for (const attempt of [() => verify(head, { secret: 'wrong' }), () => verify({ ...head, rawPath: '/x' })]) {
      try {
        attempt();
        expect.unreachable();
      } catch (error) {
        expect(String((error as Error).message)).not.toContain(SECRET);
        expect(String((error as Error).message)).not.toContain('airlock.session');
      }
    }
  });
});
