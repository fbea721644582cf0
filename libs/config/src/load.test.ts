import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { AirlockError } from '@airlock/errors';
import { loadConfig, parseConfig } from './load.js';

async function writeYaml(text: string): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'airlock-config-'));
  const path = join(dir, 'airlock.yaml');
  await writeFile(path, text);
  return path;
}

describe('loadConfig', () => {
  it('accepts the documented minimal file and fills defaults', async () => {
    const path = await writeYaml(`
edge: { listen: "127.0.0.1:4566" }
identity:
  issuers:
    - { issuer: "https://idp.example.com", audience: "airlock" }
upstream: { endpoint: "http://127.0.0.1:5000" }
policy: { files: ["policies/default.cedar"] }
`);
    const config = await loadConfig(path);
    expect(config.edge.listen).toBe('127.0.0.1:4566');
    expect(config.edge.clockSkewSeconds).toBe(900);
    expect(config.identity.issuers[0]).toMatchObject({ issuer: 'https://idp.example.com', claims: { subject: 'sub', groups: 'groups' }, roles: ['*'] });
    expect(config.drivers.bus).toEqual({ kind: 'embedded' });
    expect(Object.isFrozen(config.identity.issuers)).toBe(true);
  });

  it('names every invalid key by its path', () => {
    const attempt = () => parseConfig({ edge: { listen: 'nowhere' }, identity: { issuers: [{ issuer: 'not a url' }] }, bogus: 1 });
    expect(attempt).toThrow(AirlockError);
    try {
      attempt();
    } catch (error) {
      const message = (error as AirlockError).message;
      expect(message).toContain('edge.listen: expected "host:port"');
      expect(message).toContain('identity.issuers.0.issuer');
      expect(message).toContain('identity.issuers.0.audience');
      expect(message).toMatch(/bogus/);
    }
  });

  it('takes secrets from the environment and refuses a missing variable', async () => {
    const path = await writeYaml('drivers: { state: { kind: redis, url: "redis://:${REDIS_PASSWORD}@127.0.0.1:6379" } }');
    const config = await loadConfig(path, { REDIS_PASSWORD: 's3cret' });
    expect(config.drivers.state).toEqual({ kind: 'redis', url: 'redis://:s3cret@127.0.0.1:6379' });
    await expect(loadConfig(path, {})).rejects.toThrow(/drivers\.state\.url: environment variable REDIS_PASSWORD is not set/);
  });

  it('reports YAML syntax errors with the line', async () => {
    const path = await writeYaml('edge:\n  listen: [unclosed\n');
    await expect(loadConfig(path)).rejects.toThrow(/not valid YAML \(line \d+\)/);
  });
});
