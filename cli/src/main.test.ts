import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '@airlock/config';

const run = promisify(execFile);
const repoRoot = fileURLToPath(new URL('../..', import.meta.url));

describe('shipped configurations', () => {
  it.each(['airlock.dev.yaml', 'deploy/airlock.distributed.yaml'])('%s is valid', async (file) => {
    const config = await loadConfig(`${repoRoot}/${file}`, { REDIS_PASSWORD: 'x' });
    expect(config.policy.files.length).toBeGreaterThan(0);
  });
});

describe('airlock command', () => {
  it('refuses an invalid configuration with the key path and exit code 2', async () => {
    const attempt = run(process.execPath, [`${repoRoot}/cli/dist/main.js`, 'dev', '--config', `${repoRoot}/cli/src/testdata/invalid.yaml`]);
    await expect(attempt).rejects.toMatchObject({ code: 2, stderr: expect.stringContaining('edge.listen: expected "host:port"') });
  });

  it('names the services it can serve', async () => {
    const attempt = run(process.execPath, [`${repoRoot}/cli/dist/main.js`, 'serve', 'nonsense']);
    await expect(attempt).rejects.toMatchObject({ code: 2, stderr: expect.stringContaining('edge, policy, approval, credential-vending, masking, recorder') });
  });

  it('lists every command in --help, and answers an unknown command with exit code 2', async () => {
    const { stdout } = await run(process.execPath, [`${repoRoot}/cli/dist/main.js`, '--help']);
    for (const command of ['dev', 'serve', 'login', 'logout', 'whoami', 'credentials', 'env', 'exec', 'sessions']) expect(stdout).toMatch(new RegExp(`^  airlock ${command}\\b`, 'm'));
    await expect(run(process.execPath, [`${repoRoot}/cli/dist/main.js`, 'nonsense'])).rejects.toMatchObject({ code: 2, stderr: expect.stringContaining('Unknown command "nonsense"') });
  });

  it('answers a usage error with one line and exit code 2', async () => {
    const attempt = run(process.execPath, [`${repoRoot}/cli/dist/main.js`, 'credentials', '--role', 'arn:aws:iam::123456789012:role/agent', '--duration', '60'], {
      env: { PATH: process.env.PATH ?? '', AIRLOCK_CONFIG_DIR: '/nonexistent' },
    });
    await expect(attempt).rejects.toMatchObject({ code: 2, stderr: 'airlock: --duration must be a whole number of seconds from 900 to 43200 (see airlock credentials --help)\n' });
  });
});
