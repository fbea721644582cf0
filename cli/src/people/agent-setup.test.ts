import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { keepTokenFileFresh, prepareAgentEnvironment } from './agent-setup.js';
import { saveLogin } from './login-store.js';
import { tokenFilePath } from './token-file.js';

const jwt = (claims: Record<string, unknown>) =>
  `${Buffer.from('{"alg":"RS256"}').toString('base64url')}.${Buffer.from(JSON.stringify(claims)).toString('base64url')}.c2ln`;

describe('the web identity of airlock env and exec', () => {
  let dir: string;
  const now = Math.floor(Date.now() / 1000);
  const token = jwt({ iss: 'https://idp.example.com', sub: 'alice', email: 'alice@example.com', aud: 'airlock-cli', iat: now, exp: now + 3600 });

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'airlock-agent-'));
    await saveLogin(dir, {
      version: 1,
      issuer: 'https://idp.example.com',
      clientId: 'airlock-cli',
      scope: 'openid',
      tokenEndpoint: 'https://idp.example.com/token',
      idToken: token,
      obtainedAt: new Date(now * 1000).toISOString(),
    });
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('writes the token to a 0600 file that the environment names, with the person in the session name', async () => {
    const environment = await prepareAgentEnvironment({ dir, endpoint: 'http://127.0.0.1:4566', roleArn: 'arn:aws:iam::123456789012:role/agent', mode: 'web-identity' });
    expect(environment.set).toMatchObject({ AWS_WEB_IDENTITY_TOKEN_FILE: tokenFilePath(dir), AWS_ROLE_SESSION_NAME: 'airlock-alice' });
    expect(await readFile(tokenFilePath(dir), 'utf8')).toBe(token);
    expect((await stat(tokenFilePath(dir))).mode & 0o777).toBe(0o600);
    expect(JSON.stringify(environment)).not.toContain(token);
  });

  it('rewrites the token file while a command runs', async () => {
    const stop = keepTokenFileFresh(dir, (message) => expect.fail(message), 10);
    try {
      await expect.poll(() => readFile(tokenFilePath(dir), 'utf8').catch(() => ''), { timeout: 2000 }).toBe(token);
    } finally {
      stop();
    }
  });
});
