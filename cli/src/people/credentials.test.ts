import { mkdtemp, readdir, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { cacheCredentials, cachedCredentials, clearCredentialCache, type CacheKey } from './credential-cache.js';
import { toCredentialProcess } from './credential-process.js';
import { assumeRoleWithWebIdentity, roleSessionName } from './sts.js';

const credentials = {
  accessKeyId: 'ALSAEXAMPLE123456789',
  secretAccessKey: 'secret/with+chars&more',
  sessionToken: 'session-token',
  expiration: new Date('2025-01-01T13:00:00Z'),
};

describe('credential_process output', () => {
  it('is version 1 with the four fields the AWS CLI and SDKs read, the expiration in ISO 8601', () => {
    const output = toCredentialProcess(credentials);
    expect(Object.keys(output)).toEqual(['Version', 'AccessKeyId', 'SecretAccessKey', 'SessionToken', 'Expiration']);
    expect(output).toEqual({
      Version: 1,
      AccessKeyId: 'ALSAEXAMPLE123456789',
      SecretAccessKey: 'secret/with+chars&more',
      SessionToken: 'session-token',
      Expiration: '2025-01-01T13:00:00.000Z',
    });
  });
});

describe('credential cache', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'airlock-cache-'));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });
  const key: CacheKey = { issuer: 'https://idp.example.com', subject: 'alice', endpoint: 'http://127.0.0.1:4566', roleArn: 'arn:aws:iam::123456789012:role/agent' };

  it('serves cached credentials until five minutes before they expire, from a 0600 file', async () => {
    await cacheCredentials(dir, key, credentials);
    expect(await cachedCredentials(dir, key, new Date('2025-01-01T12:54:59Z'))).toEqual(credentials);
    expect(await cachedCredentials(dir, key, new Date('2025-01-01T12:55:00Z'))).toBeUndefined();
    const [file] = await readdir(join(dir, 'credentials'));
    expect((await stat(join(dir, 'credentials', file!))).mode & 0o777).toBe(0o600);
  });

  it('keeps credentials apart by person, endpoint, role and duration', async () => {
    await cacheCredentials(dir, key, credentials);
    const early = new Date('2025-01-01T12:00:00Z');
    expect(await cachedCredentials(dir, { ...key, subject: 'bob' }, early)).toBeUndefined();
    expect(await cachedCredentials(dir, { ...key, endpoint: 'http://other:4566' }, early)).toBeUndefined();
    expect(await cachedCredentials(dir, { ...key, roleArn: 'arn:aws:iam::123456789012:role/other' }, early)).toBeUndefined();
    expect(await cachedCredentials(dir, { ...key, durationSeconds: 900 }, early)).toBeUndefined();
    await clearCredentialCache(dir);
    expect(await cachedCredentials(dir, key, early)).toBeUndefined();
  });
});

describe('assumeRoleWithWebIdentity', () => {
  const answering = (status: number, xml: string) => {
    const requests: { url: string; form: Record<string, string> }[] = [];
    const fetchImpl = (async (url: string | URL | Request, init?: RequestInit) => {
      requests.push({ url: String(url), form: Object.fromEntries(new URLSearchParams(String(init?.body))) });
      return new Response(xml, { status, headers: { 'content-type': 'text/xml' } });
    }) as typeof fetch;
    return { fetch: fetchImpl, requests };
  };
  const request = { endpoint: 'http://127.0.0.1:4566/', roleArn: 'arn:aws:iam::123456789012:role/agent', token: 'a.b.c', sessionName: 'airlock-alice' };

  it('posts the query-protocol form and reads the credentials out of the XML answer', async () => {
    const server = answering(
      200,
      `<AssumeRoleWithWebIdentityResponse><AssumeRoleWithWebIdentityResult><Credentials>
        <AccessKeyId>ALSAEXAMPLE123456789</AccessKeyId><SecretAccessKey>secret/with+chars&amp;more</SecretAccessKey>
        <SessionToken>session-token</SessionToken><Expiration>2025-01-01T13:00:00.000Z</Expiration>
      </Credentials></AssumeRoleWithWebIdentityResult></AssumeRoleWithWebIdentityResponse>`,
    );
    await expect(assumeRoleWithWebIdentity({ ...request, durationSeconds: 900 }, server.fetch)).resolves.toEqual(credentials);
    expect(server.requests).toEqual([
      {
        url: 'http://127.0.0.1:4566/',
        form: {
          Action: 'AssumeRoleWithWebIdentity',
          Version: '2011-06-15',
          RoleArn: request.roleArn,
          RoleSessionName: 'airlock-alice',
          WebIdentityToken: 'a.b.c',
          DurationSeconds: '900',
        },
      },
    ]);
  });

  it('turns an STS error into a one-line message with its code, without the token', async () => {
    const server = answering(400, '<ErrorResponse><Error><Code>ExpiredTokenException</Code><Message>The identity token has expired &amp; more.</Message></Error></ErrorResponse>');
    const failure = await assumeRoleWithWebIdentity(request, server.fetch).then(
      () => undefined,
      (error: Error) => error,
    );
    expect(failure?.message).toBe(`Airlock refused the role ${request.roleArn}: ExpiredTokenException: The identity token has expired & more.`);
  });

  it('names the person in a session name STS accepts', () => {
    expect(roleSessionName('alice@example.com')).toBe('airlock-alice');
    expect(roleSessionName('Jürgen Müller')).toBe('airlock-J-rgen-M-ller');
    expect(roleSessionName('')).toBe('airlock-person');
    expect(roleSessionName('x'.repeat(100))).toHaveLength(64);
  });
});
