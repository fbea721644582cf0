import { describe, expect, it } from 'vitest';
import { parseAuthorization } from './parse-authorization.js';
import { chunkSignature } from './chunked.js';
import { isClientAuthQueryParameter, resign } from './resign.js';
import { deriveSigningKey } from './signature.js';
import type { IncomingRequestHead, OutgoingRequest } from './types.js';
import { verifySignature } from './verify.js';

const NOW = new Date('2026-03-01T10:00:00Z');
const VENDED = { accessKeyId: 'ASIAEXAMPLEEXAMPLE12', secretAccessKey: 'vended/secret+key0123456789abcdefghijklmn', sessionToken: 'FwoGZXIvYXdzEXAMPLE//token=' };
const EMPTY = 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855';

function encode(value: string): string {
  return encodeURIComponent(value).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
}

/** What AWS receives when the request is sent: the query written in RFC 3986 form, as the SDK's HTTP handler does. */
function received(request: OutgoingRequest): IncomingRequestHead {
  const rawQuery = Object.entries(request.query)
    .flatMap(([name, value]) => (Array.isArray(value) ? value : [value]).map((v) => `${encode(name)}=${encode(v)}`))
    .join('&');
  return { method: request.method, rawPath: request.path, rawQuery, headers: { ...request.headers } };
}

function verifyAsAws(request: OutgoingRequest, now = NOW): void {
  const head = received(request);
  verifySignature(head, parseAuthorization(head), VENDED.secretAccessKey, { now });
}

/** As the edge holds a client's request: with the client's own Airlock authentication still on it. */
function clientRequest(overrides: Partial<OutgoingRequest>): OutgoingRequest {
  return {
    method: 'GET',
    protocol: 'https:',
    hostname: 's3.eu-west-1.amazonaws.com',
    path: '/',
    query: {},
    headers: {
      Host: 'airlock.internal:4566',
      Authorization: 'AWS4-HMAC-SHA256 Credential=ALSAAAAAAAAAAAAAAAAA/20260301/eu-west-1/s3/aws4_request, SignedHeaders=host, Signature=00',
      'X-Amz-Security-Token': 'airlock.client-session-token',
      'X-Amz-Date': '20260301T095959Z',
      Date: 'Sun, 01 Mar 2026 09:59:59 GMT',
      'x-amz-content-sha256': 'UNSIGNED-PAYLOAD',
      'Content-Type': 'text/plain',
      'User-Agent': 'aws-cli/2',
    },
    ...overrides,
  };
}

describe('resign', () => {
  it('signs an S3 request with a difficult key so that AWS would accept it', async () => {
    const path = `/bucket/${['dir', 'a b+c=d', 'é ü?x#y&z', '..', 'x'].map(encode).join('/')}`;
    const request = clientRequest({ method: 'PUT', path, query: { 'x-id': 'PutObject' } });
    const signed = await resign(request, VENDED, { region: 'eu-west-1', service: 's3', payloadHash: 'UNSIGNED-PAYLOAD', now: NOW });
    expect(signed.path).toBe(path);
    verifyAsAws(signed);
  });

  it('replaces the client authentication with its own, and never forwards the Airlock session token', async () => {
    const signed = await resign(clientRequest({}), VENDED, { region: 'eu-west-1', service: 's3', payloadHash: EMPTY, now: NOW });
    expect(signed.headers).toMatchObject({
      host: 's3.eu-west-1.amazonaws.com',
      'x-amz-date': '20260301T100000Z',
      'x-amz-security-token': VENDED.sessionToken,
      'x-amz-content-sha256': EMPTY,
      'content-type': 'text/plain',
      'user-agent': 'aws-cli/2',
    });
    expect(signed.headers['authorization']).toMatch(/^AWS4-HMAC-SHA256 Credential=ASIAEXAMPLEEXAMPLE12\/20260301\/eu-west-1\/s3\/aws4_request, SignedHeaders=content-type;host;x-amz-content-sha256;x-amz-date;x-amz-security-token, Signature=[0-9a-f]{64}$/);
    expect(JSON.stringify(signed)).not.toContain('airlock.client-session-token');
    expect(JSON.stringify(signed)).not.toContain('ALSA');
    expect(signed.headers['date']).toBeUndefined();
    expect(Object.keys(signed.headers).every((name) => name === name.toLowerCase())).toBe(true);
    verifyAsAws(signed);
  });

  it('drops presigned-URL parameters from the query and keeps the rest', async () => {
    const request = clientRequest({
      query: { 'list-type': '2', prefix: 'a b+c/é', 'X-Amz-Security-Token': 'airlock.client-session-token', 'X-Amz-Signature': 'ab', 'X-Amz-Credential': 'x', 'x-amz-content-sha256': 'UNSIGNED-PAYLOAD' },
    });
    const signed = await resign(request, VENDED, { region: 'eu-west-1', service: 's3', payloadHash: EMPTY, now: NOW });
    expect(signed.query).toEqual({ 'list-type': '2', prefix: 'a b+c/é' });
    verifyAsAws(signed);
  });

  it('names the query parameters of query-string authentication, in any case', () => {
    for (const name of ['X-Amz-Algorithm', 'x-amz-credential', 'X-AMZ-DATE', 'X-Amz-Expires', 'X-Amz-SignedHeaders', 'X-Amz-Signature', 'X-Amz-Security-Token', 'X-Amz-Content-Sha256']) {
      expect(isClientAuthQueryParameter(name), name).toBe(true);
    }
    for (const name of ['x-id', 'X-Amz-Acl', 'prefix', 'Signature']) expect(isClientAuthQueryParameter(name), name).toBe(false);
  });

  it('hands back what re-signing the chunks of a streaming upload needs: the new seed, date, scope and signing key', async () => {
    const signed = await resign(clientRequest({ method: 'PUT', path: '/bucket/key' }), VENDED, {
      region: 'eu-west-1',
      service: 's3',
      payloadHash: 'STREAMING-AWS4-HMAC-SHA256-PAYLOAD',
      now: NOW,
    });
    verifyAsAws(signed);
    const seed = /Signature=([0-9a-f]{64})$/.exec(signed.headers['authorization'] ?? '')?.[1];
    expect(signed.signing).toMatchObject({ seedSignature: seed, amzDate: '20260301T100000Z', scope: '20260301/eu-west-1/s3/aws4_request' });
    expect(signed.signing.signingKey.equals(deriveSigningKey(VENDED.secretAccessKey, { date: '20260301', region: 'eu-west-1', service: 's3' }))).toBe(true);
    expect(chunkSignature(signed.signing, seed ?? '', EMPTY)).toMatch(/^[0-9a-f]{64}$/);
  });

  it('signs a non-S3 REST path with the double encoding AWS expects', async () => {
    const request = clientRequest({ hostname: 'lambda.eu-west-1.amazonaws.com', path: '/2015-03-31/functions/my%20fn%2Bx/invocations', method: 'POST' });
    const body = '{"key":"value"}';
    const { createHash } = await import('node:crypto');
    const payloadHash = createHash('sha256').update(body).digest('hex');
    const signed = await resign(request, VENDED, { region: 'eu-west-1', service: 'lambda', payloadHash, now: NOW });
    verifyAsAws(signed);
  });

  it('signs STS query-protocol calls, and works without a session token', async () => {
    const { sessionToken: _none, ...longTerm } = VENDED;
    const request = clientRequest({ method: 'POST', hostname: 'sts.eu-west-1.amazonaws.com', headers: { 'content-type': 'application/x-www-form-urlencoded' } });
    const signed = await resign(request, longTerm, { region: 'eu-west-1', service: 'sts', payloadHash: EMPTY, now: NOW });
    expect(signed.headers['x-amz-security-token']).toBeUndefined();
    verifyAsAws(signed);
  });

  it('puts a non-default port in the host header, and leaves a default one out', async () => {
    const custom = await resign(clientRequest({ protocol: 'http:', hostname: '127.0.0.1', port: 5000 }), VENDED, { region: 'us-east-1', service: 's3', payloadHash: EMPTY, now: NOW });
    expect(custom.headers['host']).toBe('127.0.0.1:5000');
    verifyAsAws(custom);
    const standard = await resign(clientRequest({ port: 443 }), VENDED, { region: 'us-east-1', service: 's3', payloadHash: EMPTY, now: NOW });
    expect(standard.headers['host']).toBe('s3.eu-west-1.amazonaws.com');
  });

  it('uses the current time when none is given', async () => {
    const before = Date.now();
    const signed = await resign(clientRequest({}), VENDED, { region: 'eu-west-1', service: 's3', payloadHash: EMPTY });
    verifyAsAws(signed, new Date(before));
  });

  it('does not modify the request it was given', async () => {
    const request = clientRequest({ query: { a: ['1', '2'] } });
    const copy = structuredClone(request);
    await resign(request, VENDED, { region: 'eu-west-1', service: 's3', payloadHash: EMPTY, now: NOW });
    expect(request).toEqual(copy);
  });
});
