import { describe, expect, it } from 'vitest';
import { AirlockError, type AirlockErrorCode } from '@airlock/errors';
import { parseAuthorization } from './parse-authorization.js';
import type { IncomingRequestHead } from './types.js';

const SIGNATURE = '5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31';
const AUTHORIZATION = `AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/iam/aws4_request, SignedHeaders=content-type;host;x-amz-date, Signature=${SIGNATURE}`;

function head(headers: Record<string, string | undefined> = {}, rawQuery = ''): IncomingRequestHead {
  return {
    method: 'GET',
    rawPath: '/',
    rawQuery,
    headers: { host: 'iam.amazonaws.com', 'x-amz-date': '20150830T123600Z', authorization: AUTHORIZATION, ...headers },
  };
}

function errorOf(attempt: () => unknown): AirlockError {
  try {
    attempt();
  } catch (error) {
    if (error instanceof AirlockError) return error;
    throw error;
  }
  throw new Error('expected an AirlockError');
}

function expectCode(request: IncomingRequestHead, code: AirlockErrorCode, message?: RegExp): void {
  const error = errorOf(() => parseAuthorization(request));
  expect(error.code).toBe(code);
  if (message) expect(error.message).toMatch(message);
}

describe('parseAuthorization', () => {
  it('reads the AWS documentation example', () => {
    expect(parseAuthorization(head())).toEqual({
      accessKeyId: 'AKIDEXAMPLE',
      date: '20150830',
      region: 'us-east-1',
      service: 'iam',
      signedHeaders: ['content-type', 'host', 'x-amz-date'],
      signature: SIGNATURE,
      amzDate: '20150830T123600Z',
      payloadHash: 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855',
      payloadHashFromHeader: false,
    });
  });

  it('takes the payload hash literal and the session token from their headers', () => {
    const parsed = parseAuthorization(head({ 'x-amz-content-sha256': 'STREAMING-UNSIGNED-PAYLOAD-TRAILER', 'x-amz-security-token': 'airlock.token' }));
    expect(parsed).toMatchObject({ payloadHash: 'STREAMING-UNSIGNED-PAYLOAD-TRAILER', payloadHashFromHeader: true, securityToken: 'airlock.token' });
  });

  it('accepts fields separated by a bare comma', () => {
    const compact = AUTHORIZATION.replaceAll(', ', ',');
    expect(parseAuthorization(head({ authorization: compact })).signature).toBe(SIGNATURE);
  });

  it('answers MissingAuthentication when nothing authenticates the request', () => {
    expectCode(head({ authorization: undefined }), 'MissingAuthentication', /Authentication Token/);
  });

  it('refuses a request that authenticates both ways', () => {
    const presign = 'X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AKID%2F20150830%2Fus-east-1%2Fs3%2Faws4_request&X-Amz-Signature=abc';
    expectCode(head({}, presign), 'InvalidRequest', /Only one auth mechanism/);
  });

  describe('presigned URLs (query-string authentication)', () => {
    const query = (overrides: Record<string, string | undefined> = {}) =>
      Object.entries({
        'X-Amz-Algorithm': 'AWS4-HMAC-SHA256',
        'X-Amz-Credential': 'AKIDEXAMPLE/20150830/us-east-1/s3/aws4_request',
        'X-Amz-Date': '20150830T123600Z',
        'X-Amz-Expires': '300',
        'X-Amz-SignedHeaders': 'host',
        'X-Amz-Security-Token': 'session+token/=',
        'X-Amz-Signature': SIGNATURE,
        ...overrides,
      })
        .filter((entry): entry is [string, string] => entry[1] !== undefined)
        .map(([name, value]) => `${name}=${encodeURIComponent(value)}`)
        .join('&');
    const presigned = (overrides: Record<string, string | undefined> = {}, headers: Record<string, string | undefined> = {}) =>
      head({ authorization: undefined, 'x-amz-date': undefined, ...headers }, query(overrides));

    it('reads every parameter; S3 signs UNSIGNED-PAYLOAD', () => {
      expect(parseAuthorization(presigned())).toEqual({
        accessKeyId: 'AKIDEXAMPLE',
        date: '20150830',
        region: 'us-east-1',
        service: 's3',
        signedHeaders: ['host'],
        signature: SIGNATURE,
        amzDate: '20150830T123600Z',
        payloadHash: 'UNSIGNED-PAYLOAD',
        payloadHashFromHeader: true,
        securityToken: 'session+token/=',
        presigned: { expiresSeconds: 300 },
      });
    });

    it('takes the payload hash an S3 URL declares, and leaves other services to hash the body', () => {
      expect(parseAuthorization(presigned({ 'X-Amz-Content-Sha256': 'UNSIGNED-PAYLOAD' })).payloadHash).toBe('UNSIGNED-PAYLOAD');
      const sts = parseAuthorization(presigned({ 'X-Amz-Credential': 'AKIDEXAMPLE/20150830/us-east-1/sts/aws4_request' }));
      expect(sts).toMatchObject({ service: 'sts', payloadHash: 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855', payloadHashFromHeader: false });
    });

    it('refuses a malformed or incomplete URL', () => {
      expectCode(presigned({ 'X-Amz-Algorithm': 'AWS4-ECDSA-P256-SHA256' }), 'IncompleteSignature', /AWS4-HMAC-SHA256/);
      expectCode(presigned({ 'X-Amz-Date': undefined }), 'IncompleteSignature', /X-Amz-Date/);
      expectCode(presigned({ 'X-Amz-Date': '20150831T123600Z' }), 'IncompleteSignature', /Invalid credential date/);
      expectCode(presigned({ 'X-Amz-Expires': undefined }), 'IncompleteSignature', /X-Amz-Expires/);
      expectCode(presigned({ 'X-Amz-Expires': '604801' }), 'IncompleteSignature', /seven days/);
      expectCode(presigned({ 'X-Amz-Expires': '0' }), 'IncompleteSignature', /X-Amz-Expires/);
      expectCode(presigned({ 'X-Amz-Expires': '-5' }), 'IncompleteSignature', /X-Amz-Expires/);
      expectCode(presigned({ 'X-Amz-SignedHeaders': 'x-amz-date' }), 'IncompleteSignature', /Host/);
      expectCode(presigned({ 'X-Amz-Signature': 'abc' }), 'IncompleteSignature', /64 lower-case/);
      expectCode(presigned({ 'X-Amz-Credential': 'AKIDEXAMPLE/20150830/us-east-1/s3' }), 'IncompleteSignature', /X-Amz-Credential must be/);
      expectCode(head({ authorization: undefined }, `${query()}&X-Amz-Signature=${SIGNATURE}`), 'IncompleteSignature', /more than once/);
    });
  });

  it('refuses other signature versions', () => {
    expectCode(head({ authorization: 'AWS AKIDEXAMPLE:frJIUN8DYpKDtOLCwo//yllqDzg=' }), 'IncompleteSignature', /Signature Version 4/);
    expectCode(head({ authorization: AUTHORIZATION.replace('AWS4-HMAC-SHA256', 'AWS4-ECDSA-P256-SHA256') }), 'IncompleteSignature', /AWS4-HMAC-SHA256/);
    expectCode(head({ authorization: undefined }, 'AWSAccessKeyId=AKID&Signature=abc&Expires=1'), 'IncompleteSignature', /Version 4/);
  });

  it('names each missing field', () => {
    expectCode(head({ authorization: 'AWS4-HMAC-SHA256' }), 'IncompleteSignature', /'Credential'.*'SignedHeaders'.*'Signature'/);
    expectCode(head({ authorization: AUTHORIZATION.replace(/, Signature=.*/, '') }), 'IncompleteSignature', /requires 'Signature' parameter/);
    expectCode(head({ authorization: `${AUTHORIZATION}, Signature=${SIGNATURE}` }), 'IncompleteSignature', /more than once/);
  });

  it('checks the credential scope', () => {
    for (const credential of ['AKIDEXAMPLE/20150830/us-east-1/iam', 'AKIDEXAMPLE/2015-08-30/us-east-1/iam/aws4_request', 'AKID EXAMPLE/20150830/us-east-1/iam/aws4_request', 'AKIDEXAMPLE/20150830/us-east-1/iam/aws4_request/x', 'AKIDEXAMPLE/20150830/us-east-1/iam/aws5_request']) {
      expectCode(head({ authorization: AUTHORIZATION.replace(/Credential=[^,]*/, `Credential=${credential}`) }), 'IncompleteSignature', /Credential must be/);
    }
  });

  it('accepts an HTTP/2 request that signs :authority in place of host', () => {
    const http2 = head({ authorization: AUTHORIZATION.replace('content-type;host;x-amz-date', ':authority;content-type;x-amz-date') });
    expect(parseAuthorization(http2).signedHeaders).toEqual([':authority', 'content-type', 'x-amz-date']);
    expectCode(head({ authorization: AUTHORIZATION.replace('content-type;host;x-amz-date', ':path;content-type;x-amz-date') }), 'IncompleteSignature', /'Host' must be a 'SignedHeader'/);
  });

  it('checks SignedHeaders and requires host among them', () => {
    expectCode(head({ authorization: AUTHORIZATION.replace('content-type;host;x-amz-date', 'content-type;x-amz-date') }), 'IncompleteSignature', /'Host' must be a 'SignedHeader'/);
    expectCode(head({ authorization: AUTHORIZATION.replace('content-type;host', 'Content-Type;host') }), 'IncompleteSignature', /lower-case/);
    expectCode(head({ authorization: AUTHORIZATION.replace('content-type;host', 'host;host') }), 'IncompleteSignature', /more than once/);
  });

  it('checks the signature shape', () => {
    expectCode(head({ authorization: AUTHORIZATION.replace(SIGNATURE, SIGNATURE.toUpperCase()) }), 'IncompleteSignature', /hexadecimal/);
    expectCode(head({ authorization: AUTHORIZATION.replace(SIGNATURE, SIGNATURE.slice(1)) }), 'IncompleteSignature', /hexadecimal/);
  });

  it('requires a well-formed X-Amz-Date on the credential scope date', () => {
    expectCode(head({ 'x-amz-date': undefined, date: 'Sun, 30 Aug 2015 12:36:00 GMT' }), 'IncompleteSignature', /X-Amz-Date/);
    expectCode(head({ 'x-amz-date': '2015-08-30T12:36:00Z' }), 'IncompleteSignature', /ISO 8601/);
    expectCode(head({ 'x-amz-date': '20150231T123600Z' }), 'IncompleteSignature', /ISO 8601/);
    expectCode(head({ 'x-amz-date': '20150831T003600Z' }), 'IncompleteSignature', /credential date/);
  });

  it('never echoes the signature or a token in its messages', () => {
    const error = errorOf(() => parseAuthorization(head({ authorization: AUTHORIZATION.replace('host;', ''), 'x-amz-security-token': 'secret-token' })));
    expect(error.message).not.toContain(SIGNATURE);
    expect(error.message).not.toContain('secret-token');
  });
});
