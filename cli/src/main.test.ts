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
});
