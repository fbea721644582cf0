import { spawn, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { once } from 'node:events';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Readable } from 'node:stream';
import { ListObjectsV2Command, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { GetCallerIdentityCommand, STSClient } from '@aws-sdk/client-sts';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { AirlockError, type AirlockErrorCode } from '@airlock/errors';
import { parseAuthorization } from './parse-authorization.js';
import { parseRawQuery } from './parse-raw-query.js';
import { resign } from './resign.js';
import type { IncomingRequestHead, OutgoingRequest, ParsedAuthorization } from './types.js';
import { verifySignature } from './verify.js';

// Requests signed by real AWS clients, captured as the edge would receive them: a plain node:http server records the
// request line and headers exactly as they arrived.

const CREDENTIALS = { accessKeyId: 'ALSAMPLE2345ABCDEFGH', secretAccessKey: 'airlock-test-secret-0123456789abcdefghij', sessionToken: 'airlock.session-token' };
const REGION = 'eu-west-1';

interface Captured extends IncomingRequestHead {
  headers: IncomingHttpHeaders;
  body: Buffer;
}

let server: Server;
let endpoint: string;
let captured: Captured[] = [];

beforeAll(async () => {
  server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      const url = request.url ?? '/';
      const mark = url.indexOf('?');
      captured.push({
        method: request.method ?? 'GET',
        rawPath: mark === -1 ? url : url.slice(0, mark),
        rawQuery: mark === -1 ? '' : url.slice(mark + 1),
        headers: request.headers,
        body: Buffer.concat(chunks),
      });
      // Any well-formed answer will do: the clients' parsing of it is not under test.
      response.writeHead(200, { 'content-type': 'text/xml', etag: '"d41d8cd98f00b204e9800998ecf8427e"' });
      response.end('<GetCallerIdentityResponse><GetCallerIdentityResult><Arn>arn:aws:sts::000000000000:assumed-role/r/s</Arn><UserId>u</UserId><Account>000000000000</Account></GetCallerIdentityResult></GetCallerIdentityResponse>');
    });
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  server.closeAllConnections();
  server.close();
  await once(server, 'close');
});

beforeEach(() => {
  captured = [];
});

async function capture(call: () => Promise<unknown>): Promise<Captured> {
  const before = captured.length;
  await call().catch(() => undefined);
  expect(captured.length).toBe(before + 1);
  return captured[before] as Captured;
}

function sts(): STSClient {
  return new STSClient({ endpoint, region: REGION, credentials: CREDENTIALS, maxAttempts: 1 });
}

function s3(): S3Client {
  return new S3Client({ endpoint, region: REGION, credentials: CREDENTIALS, forcePathStyle: true, maxAttempts: 1 });
}

function sha256(body: Buffer | string): string {
  return createHash('sha256').update(body).digest('hex');
}

/** The request time the client signed: tests verify "now" at that instant, so the wall clock never matters. */
function signedAt(auth: ParsedAuthorization): Date {
  const d = auth.amzDate;
  return new Date(`${d.slice(0, 4)}-${d.slice(4, 6)}-${d.slice(6, 8)}T${d.slice(9, 11)}:${d.slice(11, 13)}:${d.slice(13, 15)}Z`);
}

/** Parses and verifies as the edge will: when no payload hash was declared, the body's own hash is what was signed. */
function check(request: Captured, options: { nowOffsetMs?: number; mutate?: (head: Captured) => Captured } = {}): AirlockErrorCode | 'ok' {
  const now = new Date(signedAt(parseAuthorization(request)).getTime() + (options.nowOffsetMs ?? 0));
  const head = options.mutate ? options.mutate(request) : request;
  try {
    const parsed = parseAuthorization(head);
    const auth = parsed.payloadHashFromHeader ? parsed : { ...parsed, payloadHash: sha256(head.body) };
    expect(auth.accessKeyId).toBe(CREDENTIALS.accessKeyId);
    expect(auth.securityToken).toBe(CREDENTIALS.sessionToken);
    verifySignature(head, auth, CREDENTIALS.secretAccessKey, { now });
    return 'ok';
  } catch (error) {
    if (error instanceof AirlockError) return error.code;
    throw error;
  }
}

function withHeader(name: string, edit: (value: string) => string): (head: Captured) => Captured {
  return (head) => ({ ...head, headers: { ...head.headers, [name]: edit(String(head.headers[name])) } });
}

function flipLast(value: string): string {
  const last = value.at(-1) === 'a' ? 'b' : 'a';
  return `${value.slice(0, -1)}${last}`;
}

/** The usual tampering: every one of them must break the signature; a 16-minute-old request must be refused as skewed. */
function expectTamperProof(request: Captured, signedHeader: string): void {
  expect(parseAuthorization(request).signedHeaders).toContain(signedHeader);
  expect(check(request)).toBe('ok');
  expect(check(request, { mutate: withHeader(signedHeader, flipLast) })).toBe('SignatureDoesNotMatch');
  expect(check(request, { mutate: (head) => ({ ...head, rawPath: `${head.rawPath}x` }) })).toBe('SignatureDoesNotMatch');
  expect(check(request, { mutate: (head) => ({ ...head, rawQuery: head.rawQuery === '' ? 'x=1' : flipLast(head.rawQuery) }) })).toBe('SignatureDoesNotMatch');
  expect(check(request, { mutate: (head) => ({ ...head, method: head.method === 'GET' ? 'HEAD' : 'GET' }) })).toBe('SignatureDoesNotMatch');
  expect(check(request, { mutate: withHeader('authorization', flipLast) })).toBe('SignatureDoesNotMatch');
  expect(check(request, { nowOffsetMs: 16 * 60_000 })).toBe('RequestTimeTooSkewed');
  expect(check(request, { nowOffsetMs: -16 * 60_000 })).toBe('RequestTimeTooSkewed');
  // The same request with its X-Amz-Date moved 16 minutes (within the same day, so the scope date still matches):
  // refused as skewed before any signature is computed.
  const signed = signedAt(parseAuthorization(request));
  const shift = signed.getUTCHours() * 60 + signed.getUTCMinutes() >= 16 ? -16 : 16;
  const moved = new Date(signed.getTime() + shift * 60_000).toISOString().replace(/[-:]|\.\d{3}/g, '');
  expect(check(request, { mutate: withHeader('x-amz-date', () => moved) })).toBe('RequestTimeTooSkewed');
}

describe('requests signed by @aws-sdk/client-sts (query protocol)', () => {
  it('GetCallerIdentity verifies, and any tampering fails', async () => {
    const request = await capture(() => sts().send(new GetCallerIdentityCommand({})));
    expect(request.body.toString()).toBe('Action=GetCallerIdentity&Version=2011-06-15');
    expectTamperProof(request, 'content-type');
  });
});

describe('requests signed by @aws-sdk/client-s3 (rest-xml protocol, S3 path rules)', () => {
  const keys = ['dir/a b+c=d/é ü?x#y&z', 'plus+and=equals', 'dots//x/../y/./z', '日本語 ☃.txt', "!'()*~ %25"];

  it.each(keys)('PutObject with the key %j verifies, and any tampering fails', async (key) => {
    const body = `content of ${key}`;
    const request = await capture(() => s3().send(new PutObjectCommand({ Bucket: 'bucket', Key: key, Body: body })));
    // The key travels once-encoded and, for S3, is signed exactly so: no second encoding, no dot-segment removal.
    expect(request.rawPath).toBe(`/bucket/${key.split('/').map((part) => encodeURIComponent(part).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`)).join('/')}`);
    expect(parseAuthorization(request).payloadHash).toBe(sha256(body));
    expectTamperProof(request, 'x-amz-content-sha256');
  });

  it('PutObject with a streamed body verifies with the STREAMING-UNSIGNED-PAYLOAD-TRAILER literal', async () => {
    const request = await capture(() => s3().send(new PutObjectCommand({ Bucket: 'bucket', Key: 'stream', Body: Readable.from([Buffer.from('hello')]), ContentLength: 5 })));
    expect(parseAuthorization(request).payloadHash).toBe('STREAMING-UNSIGNED-PAYLOAD-TRAILER');
    expectTamperProof(request, 'x-amz-decoded-content-length');
  });

  it('ListObjectsV2 with query parameters verifies, and any tampering fails', async () => {
    const request = await capture(() =>
      s3().send(new ListObjectsV2Command({ Bucket: 'bucket', Prefix: 'a b+c/é', Delimiter: '/', MaxKeys: 5, StartAfter: 'x=y&z', ContinuationToken: 'tok+/=' })),
    );
    expect(parseRawQuery(request.rawQuery)).toMatchObject({ prefix: 'a b+c/é', 'start-after': 'x=y&z', 'continuation-token': 'tok+/=' });
    expectTamperProof(request, 'x-amz-content-sha256');
    expect(check(request, { mutate: (head) => ({ ...head, rawQuery: head.rawQuery.replace('max-keys=5', 'max-keys=6') }) })).toBe('SignatureDoesNotMatch');
  });
});

describe('resign reproduces what the SDK signed', () => {
  function outgoing(request: Captured): OutgoingRequest {
    const [hostname, port] = String(request.headers.host).split(':') as [string, string];
    const headers: Record<string, string> = {};
    for (const [name, value] of Object.entries(request.headers)) {
      if (value !== undefined && name !== 'connection') headers[name] = Array.isArray(value) ? value.join(',') : value;
    }
    return { method: request.method, protocol: 'http:', hostname, port: Number(port), path: request.rawPath, query: parseRawQuery(request.rawQuery), headers };
  }

  it.each([
    ['sts GetCallerIdentity', () => sts().send(new GetCallerIdentityCommand({}))],
    ['s3 PutObject', () => s3().send(new PutObjectCommand({ Bucket: 'bucket', Key: 'dir/a b+c=d/é ü?x#y&z', Body: 'x' }))],
    ['s3 ListObjectsV2', () => s3().send(new ListObjectsV2Command({ Bucket: 'bucket', Prefix: 'a b+c/é', StartAfter: 'x=y&z' }))],
  ] as const)('%s: same credentials, same instant, same signature', async (_name, call) => {
    const request = await capture(call);
    const auth = parseAuthorization(request);
    const resigned = await resign(outgoing(request), CREDENTIALS, { region: auth.region, service: auth.service, payloadHash: auth.payloadHash, now: signedAt(auth) });
    expect(resigned.headers['authorization']).toBe(request.headers.authorization);
  });
});

const PYTHON = process.env['PYTHON'] ?? 'python3';
const hasBoto3 = spawnSync(PYTHON, ['-c', 'import boto3'], { stdio: 'ignore' }).status === 0;

// botocore is an independent SigV4 implementation, and the AWS CLI's: it signs the body's hash without declaring it for
// non-S3 services, and double-encodes REST paths. Skipped where Python with boto3 is not installed.
describe.skipIf(!hasBoto3)('requests signed by botocore (boto3 and the AWS CLI)', () => {
  const SCRIPT = String.raw`
import sys, boto3, botocore.config
session = boto3.session.Session(aws_access_key_id=sys.argv[2], aws_secret_access_key=sys.argv[3], aws_session_token=sys.argv[4], region_name=sys.argv[5])
config = botocore.config.Config(retries={'total_max_attempts': 1}, s3={'addressing_style': 'path'})
def client(name): return session.client(name, endpoint_url=sys.argv[1], config=config)
calls = [
  lambda: client('sts').get_caller_identity(),
  lambda: client('s3').put_object(Bucket='bucket', Key='dir/a b+c=d/é ü?x#y&z', Body=b'hello'),
  lambda: client('s3').list_objects_v2(Bucket='bucket', Prefix='a b+c/é', StartAfter='x=y&z'),
  lambda: client('lambda').get_function(FunctionName='my fn+x=é', Qualifier='a b'),
  lambda: client('dynamodb').get_item(TableName='orders', Key={'id': {'S': 'a b+c'}}),
]
for call in calls:
  try: call()
  except Exception: pass
`;
  const requests = new Map<string, Captured>();

  beforeAll(async () => {
    captured = [];
    const env: NodeJS.ProcessEnv = { AWS_CONFIG_FILE: '/dev/null', AWS_SHARED_CREDENTIALS_FILE: '/dev/null', AWS_EC2_METADATA_DISABLED: 'true' };
    for (const [name, value] of Object.entries(process.env)) if (!name.startsWith('AWS_')) env[name] = value;
    const child = spawn(PYTHON, ['-c', SCRIPT, endpoint, CREDENTIALS.accessKeyId, CREDENTIALS.secretAccessKey, CREDENTIALS.sessionToken, REGION], { env, stdio: 'ignore' });
    const [code] = (await once(child, 'exit')) as [number | null];
    expect(code).toBe(0);
    const names = ['sts', 's3-put', 's3-list', 'lambda', 'dynamodb'];
    expect(captured).toHaveLength(names.length);
    names.forEach((name, index) => requests.set(name, captured[index] as Captured));
  }, 60_000);

  function request(name: string): Captured {
    const found = requests.get(name);
    if (!found) throw new Error(`botocore did not send ${name}`);
    return found;
  }

  it('STS GetCallerIdentity: the undeclared body hash is what was signed', () => {
    const sts = request('sts');
    expect(parseAuthorization(sts).payloadHashFromHeader).toBe(false);
    expectTamperProof(sts, 'content-type');
    // Verifying with the empty-body default instead of the body's hash must fail.
    expect(() => verifySignature(sts, parseAuthorization(sts), CREDENTIALS.secretAccessKey, { now: signedAt(parseAuthorization(sts)) })).toThrow(
      expect.objectContaining({ code: 'SignatureDoesNotMatch' }) as AirlockError,
    );
  });

  it('S3 PutObject with an awkward key', () => {
    expectTamperProof(request('s3-put'), 'x-amz-content-sha256');
  });

  it('S3 ListObjectsV2 with query parameters', () => {
    expectTamperProof(request('s3-list'), 'host');
  });

  it('Lambda GetFunction: a REST path that the signer encodes a second time', () => {
    const lambda = request('lambda');
    expect(lambda.rawPath).toBe('/2015-03-31/functions/my%20fn%2Bx%3D%C3%A9');
    expectTamperProof(lambda, 'host');
  });

  it('DynamoDB GetItem (JSON protocol)', () => {
    const dynamodb = request('dynamodb');
    expect(dynamodb.headers['x-amz-target']).toBe('DynamoDB_20120810.GetItem');
    expectTamperProof(dynamodb, 'x-amz-target');
  });
});
