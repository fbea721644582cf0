import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { Hash } from '@smithy/hash-node';
import { HttpRequest } from '@smithy/protocol-http';
import { SignatureV4 } from '@smithy/signature-v4';
import { describe, expect, it } from 'vitest';
import { AirlockError } from '@airlock/errors';
import { parseAuthorization } from './parse-authorization.js';
import type { IncomingRequestHead } from './types.js';
import { verifySignature } from './verify.js';

// Presigned URLs (query-string authentication) made by two independent presigners, verified as the edge verifies them.

const CREDENTIALS = { accessKeyId: 'ALSAMPLE2345ABCDEFGH', secretAccessKey: 'airlock-test-secret-0123456789abcdefghij', sessionToken: 'airlock.session+token/=' };
const SIGNED_AT = new Date('2026-03-01T10:00:00Z');
const HOST = 'airlock.internal:4566';

function rfc3986(value: string): string {
  return encodeURIComponent(value).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
}

/** What the edge receives for a URL: the request line's path and query exactly as written, and the Host. */
function headOf(url: string, method = 'GET', headers: Record<string, string> = {}): IncomingRequestHead {
  const parsed = new URL(url);
  return { method, rawPath: parsed.pathname, rawQuery: parsed.search.slice(1), headers: { host: parsed.host, ...headers } };
}

function outcome(head: IncomingRequestHead, now: Date, body = ''): string {
  try {
    const auth = parseAuthorization(head);
    verifySignature(head, auth.payloadHashFromHeader ? auth : { ...auth, payloadHash: createHash('sha256').update(body).digest('hex') }, CREDENTIALS.secretAccessKey, { now });
    return 'ok';
  } catch (error) {
    if (error instanceof AirlockError) return error.code;
    throw error;
  }
}

/** As @aws-sdk/s3-request-presigner presigns (x-amz-content-sha256: UNSIGNED-PAYLOAD, hoisted into the query). */
async function smithyPresign(service: string, method: string, path: string, query: Record<string, string> = {}, expiresIn = 300): Promise<string> {
  const signer = new SignatureV4({ service, region: 'eu-west-1', credentials: CREDENTIALS, sha256: Hash.bind(null, 'sha256'), uriEscapePath: service !== 's3' });
  const [hostname, port] = HOST.split(':') as [string, string];
  const headers: Record<string, string> = { host: HOST, ...(service === 's3' ? { 'x-amz-content-sha256': 'UNSIGNED-PAYLOAD' } : {}) };
  const signed = await signer.presign(new HttpRequest({ method, protocol: 'http:', hostname, port: Number(port), path, query, headers }), {
    expiresIn,
    signingDate: SIGNED_AT,
    unsignableHeaders: new Set(['content-type']),
  });
  const search = Object.entries(signed.query ?? {})
    .map(([name, value]) => `${rfc3986(name)}=${rfc3986(String(value))}`)
    .join('&');
  return `http://${HOST}${path}?${search}`;
}

const at = (offsetSeconds: number) => new Date(SIGNED_AT.getTime() + offsetSeconds * 1000);

describe('presigned URLs made by smithy (the AWS SDK for JavaScript v3)', () => {
  const key = `/bucket/${['dir', 'a b+c=d', 'é ü?x#y&z'].map(rfc3986).join('/')}`;

  it('an S3 GET verifies within its lifetime, and not before or after it', async () => {
    const url = await smithyPresign('s3', 'GET', key, { 'response-content-type': 'text/plain' });
    expect(url).toContain('x-amz-content-sha256=UNSIGNED-PAYLOAD');
    const auth = parseAuthorization(headOf(url));
    expect(auth).toMatchObject({ service: 's3', payloadHash: 'UNSIGNED-PAYLOAD', securityToken: CREDENTIALS.sessionToken, presigned: { expiresSeconds: 300 } });
    expect(outcome(headOf(url), at(0))).toBe('ok');
    expect(outcome(headOf(url), at(299))).toBe('ok');
    expect(outcome(headOf(url), at(301))).toBe('AccessDenied');
    // Clocks differ: a URL from a little in the future is fine, from far in the future is not.
    expect(outcome(headOf(url), at(-60))).toBe('ok');
    expect(outcome(headOf(url), at(-16 * 60))).toBe('AccessDenied');
  });

  it('any change to method, path, query, host or signature breaks it', async () => {
    const url = await smithyPresign('s3', 'PUT', key);
    expect(outcome(headOf(url, 'PUT'), at(1))).toBe('ok');
    expect(outcome(headOf(url, 'GET'), at(1))).toBe('SignatureDoesNotMatch');
    expect(outcome(headOf(url.replace('/bucket/', '/other/'), 'PUT'), at(1))).toBe('SignatureDoesNotMatch');
    expect(outcome(headOf(`${url}&x-id=PutObject`, 'PUT'), at(1))).toBe('SignatureDoesNotMatch');
    expect(outcome(headOf(url.replace(HOST, 'elsewhere:4566'), 'PUT'), at(1))).toBe('SignatureDoesNotMatch');
    const flipped = url.replace(/(X-Amz-Signature=[0-9a-f]{63})([0-9a-f])/, (_match, kept: string, last: string) => `${kept}${last === '0' ? '1' : '0'}`);
    expect(flipped).not.toBe(url);
    expect(outcome(headOf(flipped, 'PUT'), at(1))).toBe('SignatureDoesNotMatch');
    expect(outcome(headOf(url.replace('X-Amz-Expires=300', 'X-Amz-Expires=3000'), 'PUT'), at(1))).toBe('SignatureDoesNotMatch');
  });

  it('a non-S3 URL (STS GetCallerIdentity, as EKS tokens are made) signs the hash of the empty body', async () => {
    const url = await smithyPresign('sts', 'GET', '/', { Action: 'GetCallerIdentity', Version: '2011-06-15' }, 60);
    const auth = parseAuthorization(headOf(url));
    expect(auth).toMatchObject({ service: 'sts', payloadHashFromHeader: false });
    expect(outcome(headOf(url), at(10))).toBe('ok');
    expect(outcome(headOf(url.replace('GetCallerIdentity', 'GetSessionToken')), at(10))).toBe('SignatureDoesNotMatch');
  });
});

const PYTHON = process.env['PYTHON'] ?? 'python3';
const hasBoto3 = spawnSync(PYTHON, ['-c', 'import boto3'], { stdio: 'ignore' }).status === 0;

// botocore's presigner is an independent implementation (boto3, the AWS CLI's `aws s3 presign`). It signs with the
// wall clock, so the tests verify "now" at the X-Amz-Date it wrote.
describe.skipIf(!hasBoto3)('presigned URLs made by botocore', () => {
  const script = String.raw`
import sys, boto3, botocore.config
session = boto3.session.Session(aws_access_key_id=sys.argv[2], aws_secret_access_key=sys.argv[3], aws_session_token=sys.argv[4], region_name='eu-west-1')
for style in ('path', 'virtual'):
  s3 = session.client('s3', endpoint_url=sys.argv[1], config=botocore.config.Config(signature_version='s3v4', s3={'addressing_style': style}))
  print(s3.generate_presigned_url('get_object', Params={'Bucket': 'bucket', 'Key': 'dir/a b+c=d/é ü?x#y&z', 'ResponseContentType': 'text/plain'}, ExpiresIn=600))
  print(s3.generate_presigned_url('put_object', Params={'Bucket': 'bucket', 'Key': 'upload.bin'}, ExpiresIn=60))
print(session.client('sts', endpoint_url=sys.argv[1]).generate_presigned_url('get_caller_identity', ExpiresIn=60, HttpMethod='GET'))
`;
  const run = () => {
    const env: NodeJS.ProcessEnv = { AWS_CONFIG_FILE: '/dev/null', AWS_SHARED_CREDENTIALS_FILE: '/dev/null', AWS_EC2_METADATA_DISABLED: 'true' };
    for (const [name, value] of Object.entries(process.env)) if (!name.startsWith('AWS_')) env[name] = value;
    const result = spawnSync(PYTHON, ['-c', script, `http://${HOST}`, CREDENTIALS.accessKeyId, CREDENTIALS.secretAccessKey, CREDENTIALS.sessionToken], { env, encoding: 'utf8' });
    expect(result.status, result.stderr).toBe(0);
    return result.stdout.trim().split('\n');
  };
  const signedTime = (url: string) => {
    const d = new URL(url).searchParams.get('X-Amz-Date') ?? '';
    return new Date(`${d.slice(0, 4)}-${d.slice(4, 6)}-${d.slice(6, 8)}T${d.slice(9, 11)}:${d.slice(11, 13)}:${d.slice(13, 15)}Z`);
  };

  it('S3 GET and PUT, path-style and virtual-hosted, and STS GetCallerIdentity verify; expiry and tampering are refused', () => {
    const urls = run();
    expect(urls).toHaveLength(5);
    for (const url of urls.slice(0, 4)) {
      const method = urls.indexOf(url) % 2 === 0 ? 'GET' : 'PUT';
      const now = signedTime(url);
      expect(outcome(headOf(url, method), now), url).toBe('ok');
      expect(outcome(headOf(url, method), new Date(now.getTime() + (method === 'GET' ? 601 : 61) * 1000))).toBe('AccessDenied');
      expect(outcome(headOf(url.replace('bucket', 'bucker'), method), now)).toBe('SignatureDoesNotMatch');
    }
    expect(new URL(urls[2]!).host).toBe(`bucket.${HOST}`);
    const sts = urls[4]!;
    expect(parseAuthorization(headOf(sts)).service).toBe('sts');
    expect(outcome(headOf(sts), signedTime(sts))).toBe('ok');
  });
});
