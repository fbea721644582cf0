import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
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

/**
 * `airlock --help` and the people commands (credential_process runs `airlock credentials` before every AWS call) start
 * fast because they load their own code and nothing of the daemon's: no gRPC, Cedar, zod, AWS SDK or OpenTelemetry.
 * A module loader hook lists every module a real `airlock` process loads.
 */
describe('what a command loads', () => {
  const ownCode = (path: string) => path.startsWith('cli/dist/') || path === 'libs/config/dist/service-names.js';
  const role = 'arn:aws:iam::123456789012:role/agent';
  const nowhere = 'http://127.0.0.1:9';

  it.each([
    ['--help', 'commands/table.js'],
    ['dev --help', 'commands/table.js'],
    ['policy --help', 'commands/table.js'],
    ['whoami', 'commands/whoami.js'],
    [`credentials --role ${role} --endpoint ${nowhere}`, 'commands/credentials.js'],
    [`env --role ${role} --endpoint ${nowhere}`, 'commands/env.js'],
    ['approvals list', 'commands/approvals.js'],
    ['sessions active', 'commands/sessions.js'],
    [`login --issuer ${nowhere} --client-id cli`, 'commands/login.js'],
  ])('airlock %s loads nothing but the CLI itself', async (args, command) => {
    const scratch = await mkdtemp(join(tmpdir(), 'airlock-cli-loads-'));
    try {
      const list = join(scratch, 'loaded.txt');
      await writeFile(join(scratch, 'hooks.mjs'), "import { appendFileSync } from 'node:fs';\nexport async function load(url, context, next) {\n  appendFileSync(process.env.LOADED_LIST, `${url}\\n`);\n  return next(url, context);\n}\n");
      await writeFile(join(scratch, 'register.mjs'), "import { register } from 'node:module';\nregister(new URL('./hooks.mjs', import.meta.url));\n");
      // Not logged in: the people commands end with exit 1 (login: the issuer does not answer), after loading all they would use.
      await run(process.execPath, ['--import', join(scratch, 'register.mjs'), `${repoRoot}/cli/dist/main.js`, ...args.split(' ')], {
        env: { PATH: process.env.PATH ?? '', AIRLOCK_CONFIG_DIR: join(scratch, 'config'), LOADED_LIST: list },
      }).catch((error: { code?: number }) => expect(error.code).toBe(1));
      const loaded = (await readFile(list, 'utf8'))
        .split('\n')
        .filter((url) => url.startsWith('file:'))
        .map((url) => relative(repoRoot, fileURLToPath(url)));
      expect(loaded).toContain(`cli/dist/${command}`);
      expect(loaded.filter((path) => !ownCode(path))).toEqual([]);
    } finally {
      await rm(scratch, { recursive: true, force: true });
    }
  });
});
