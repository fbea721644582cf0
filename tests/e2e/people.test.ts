import { execFile, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startEmbeddedAirlock, type AirlockUnderTest } from '../support/airlock.js';
import { createAwsWorld, type AwsWorld } from '../support/aws-world.js';
import { startDeviceIdp, type DeviceIdp } from '../support/device-idp.js';
import { freePort } from '../support/peers.js';

const repoRoot = fileURLToPath(new URL('../..', import.meta.url));
const cliPath = join(repoRoot, 'cli/dist/main.js');
const sessionKeys = `test-1:${randomBytes(32).toString('base64')}`;

interface Ran {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/**
 * A person at a terminal: `airlock login` (device flow against oidc-provider, approved through its pages), then the
 * commands that use the stored login, each a real `airlock` process talking to an embedded Airlock in front of moto.
 */
describe('airlock for people', () => {
  let world: AwsWorld;
  let idp: DeviceIdp;
  let airlock: AirlockUnderTest;
  let scratch: string;
  let configDir: string;

  beforeAll(async () => {
    scratch = await mkdtemp(join(tmpdir(), 'airlock-people-'));
    configDir = join(scratch, 'home/.config/airlock');
    [world, idp] = await Promise.all([
      createAwsWorld(),
      startDeviceIdp({
        pollIntervalSeconds: 1,
        accounts: {
          alice: { name: 'Alice Example', email: 'alice@example.com', groups: ['engineers', 'airlock-admins'] },
          bob: { name: 'Bob Example', email: 'bob@example.com', groups: ['engineers'] },
        },
      }),
    ]);
    airlock = await startEmbeddedAirlock({
      config: {
        // People present their ID token, whose audience is the device client's id.
        identity: { issuers: [{ issuer: idp.issuer, audience: idp.clientId, kind: 'people' }] },
        admin: { groups: ['airlock-admins'] },
        upstream: { endpoint: world.moto.url },
        policy: { files: [join(repoRoot, 'policies/default.cedar')] },
        edge: { allowedRegions: ['us-east-1'] },
        logging: { level: 'info' },
      },
      env: { ...world.vendingEnv, AIRLOCK_SESSION_KEYS: sessionKeys },
    });
  });

  afterAll(async () => {
    await airlock?.stop();
    await Promise.all([world?.stop(), idp?.stop()]);
    await rm(scratch, { recursive: true, force: true });
  });

  /** A person's environment: a home of their own (so the default config directory is used), no AWS configuration. */
  const personEnv = (extra: Record<string, string> = {}): Record<string, string> => ({
    PATH: process.env.PATH ?? '',
    HOME: join(scratch, 'home'),
    AWS_CONFIG_FILE: join(scratch, 'no-config'),
    AWS_SHARED_CREDENTIALS_FILE: join(scratch, 'no-credentials'),
    ...extra,
  });

  const run = (command: string, args: string[], env = personEnv()): Promise<Ran> =>
    new Promise((resolve) => {
      execFile(command, args, { env, maxBuffer: 8 * 1024 * 1024 }, (error, stdout, stderr) => {
        const failed = error as (Error & { code?: number | string; signal?: NodeJS.Signals }) | null;
        resolve({ code: failed ? (typeof failed.code === 'number' ? failed.code : null) : 0, signal: failed?.signal ?? null, stdout, stderr });
      });
    });
  const airlockCli = (args: string[], env = personEnv()) => run(process.execPath, [cliPath, ...args], env);

  /** Runs `airlock login`, reads the user code it prints, and lets `respond` approve or refuse it. */
  const login = (args: string[], respond: (userCode: string) => Promise<void>, env = personEnv()): Promise<Ran> =>
    new Promise((resolve, reject) => {
      const child = spawn(process.execPath, [cliPath, 'login', ...args], { env, stdio: ['ignore', 'pipe', 'pipe'] });
      let stdout = '';
      let stderr = '';
      let responded = false;
      child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
      child.stderr.on('data', (chunk: Buffer) => {
        stderr += chunk.toString();
        const userCode = /enter the code (\S+)/.exec(stderr)?.[1];
        if (userCode && !responded) {
          responded = true;
          respond(userCode).catch(reject);
        }
      });
      child.once('exit', (code, signal) => resolve({ code, signal, stdout, stderr }));
    });

  const storedLogin = async () => JSON.parse(await readFile(join(configDir, 'login.json'), 'utf8')) as { idToken: string; refreshToken?: string; accessToken?: string };
  const secretsIn = (stored: { idToken: string; refreshToken?: string; accessToken?: string }) =>
    [stored.idToken, stored.refreshToken, stored.accessToken].filter((value): value is string => Boolean(value));

  it('logs in with the device authorization grant and keeps the tokens 0600 in a 0700 directory, printing none', async () => {
    const ran = await login(['--issuer', idp.issuer, '--client-id', idp.clientId, '--endpoint', airlock.url, '--region', 'us-east-1'], (code) => idp.approve(code, 'alice'));
    expect(ran.stderr).toContain(`${idp.issuer}/device`);
    expect(ran.code, ran.stderr).toBe(0);
    expect(ran.stdout).toContain('as alice@example.com');
    expect(ran.stdout).toContain('the ID token (audience airlock-cli)');
    expect((await stat(configDir)).mode & 0o777).toBe(0o700);
    expect((await stat(join(configDir, 'login.json'))).mode & 0o777).toBe(0o600);
    const stored = await storedLogin();
    expect(stored.refreshToken).toEqual(expect.any(String));
    for (const secret of secretsIn(stored)) expect(ran.stdout + ran.stderr).not.toContain(secret);
  });

  it('whoami prints who Airlock sees behind the stored token', async () => {
    const ran = await airlockCli(['whoami']);
    expect(ran.code, ran.stderr).toBe(0);
    expect(ran.stdout).toMatch(/^subject +alice$/m);
    expect(ran.stdout).toMatch(new RegExp(`^issuer +${idp.issuer}$`, 'm'));
    expect(ran.stdout).toMatch(/^email +alice@example.com$/m);
    expect(ran.stdout).toMatch(/^groups +engineers, airlock-admins$/m);
    expect(ran.stdout).toMatch(/^admin +yes$/m);
    const json = await airlockCli(['whoami', '--json']);
    expect(JSON.parse(json.stdout)).toMatchObject({ subject: 'alice', issuer: idp.issuer, admin: true });
  });

  it('serves the AWS CLI through credential_process, and caches the credentials (0600) until shortly before they expire', async () => {
    const awsConfig = join(scratch, 'aws-config');
    await writeFile(
      awsConfig,
      [
        '[default]',
        `credential_process = ${process.execPath} ${cliPath} credentials --role ${world.roleArn} --endpoint ${airlock.url}`,
        'region = us-east-1',
        '',
      ].join('\n'),
    );
    const awsEnv = personEnv({ AWS_CONFIG_FILE: awsConfig, AWS_ENDPOINT_URL: airlock.url });
    const identity = await run('aws', ['sts', 'get-caller-identity'], awsEnv);
    expect(identity.code, identity.stderr).toBe(0);
    expect(JSON.parse(identity.stdout).Arn).toMatch(/^arn:aws:sts::123456789012:assumed-role\/agent\/airlock-alice$/);
    expect((await run('aws', ['s3', 'mb', 's3://people-bucket'], awsEnv)).code).toBe(0);
    expect((await run('aws', ['s3', 'ls'], awsEnv)).stdout).toContain('people-bucket');

    const first = await airlockCli(['credentials', '--role', world.roleArn]);
    expect(first.code, first.stderr).toBe(0);
    const output = JSON.parse(first.stdout);
    expect(Object.keys(output)).toEqual(['Version', 'AccessKeyId', 'SecretAccessKey', 'SessionToken', 'Expiration']);
    expect(output.Version).toBe(1);
    expect(new Date(output.Expiration).getTime()).toBeGreaterThan(Date.now() + 5 * 60 * 1000);
    const again = JSON.parse((await airlockCli(['credentials', '--role', world.roleArn])).stdout);
    expect(again.AccessKeyId).toBe(output.AccessKeyId);
    const cached = await readdir(join(configDir, 'credentials'));
    expect(cached.length).toBeGreaterThan(0);
    for (const file of cached) expect((await stat(join(configDir, 'credentials', file))).mode & 0o777).toBe(0o600);
  });

  it('exec runs a command with the Airlock environment: the AWS CLI reaches moto through Airlock', async () => {
    const ran = await airlockCli(['exec', '--role', world.roleArn, '--', 'aws', 'sts', 'get-caller-identity']);
    expect(ran.code, ran.stderr).toBe(0);
    expect(JSON.parse(ran.stdout).Arn).toMatch(/assumed-role\/agent\/airlock-alice$/);
    expect((await stat(join(configDir, 'web-identity-token'))).mode & 0o777).toBe(0o600);
    // No static key from the caller's environment reaches the command.
    const env = await airlockCli(['exec', '--role', world.roleArn, '--', 'sh', '-c', 'echo "${AWS_ACCESS_KEY_ID:-none} $AWS_ENDPOINT_URL $AWS_ROLE_ARN"'], personEnv({ AWS_ACCESS_KEY_ID: 'AKIASTATICKEY' }));
    expect(env.stdout.trim()).toBe(`none ${airlock.url} ${world.roleArn}`);
  });

  it('exec forwards the exit code, and signals both ways', async () => {
    expect((await airlockCli(['exec', '--role', world.roleArn, '--', 'sh', '-c', 'exit 7'])).code).toBe(7);
    expect((await airlockCli(['exec', '--role', world.roleArn, '--', 'sh', '-c', 'kill -TERM $$'])).code).toBe(128 + 15);
    expect((await airlockCli(['exec', '--role', world.roleArn, '--', 'no-such-command-here'])).code).toBe(127);

    const child = spawn(
      process.execPath,
      [cliPath, 'exec', '--role', world.roleArn, '--', process.execPath, '-e', "process.on('SIGTERM', () => { console.log('got SIGTERM'); process.exit(5); }); console.log('ready'); setInterval(() => {}, 1000);"],
      { env: personEnv(), stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let stdout = '';
    await new Promise<void>((resolve) =>
      child.stdout.on('data', (chunk: Buffer) => {
        stdout += chunk.toString();
        if (stdout.includes('ready')) resolve();
      }),
    );
    const exited = once(child, 'exit') as Promise<[number | null, NodeJS.Signals | null]>;
    child.kill('SIGTERM');
    const [code] = await exited;
    expect(stdout).toContain('got SIGTERM');
    expect(code).toBe(5);
  });

  it('env prints export lines that a shell evaluates into a working AWS CLI', async () => {
    const printed = await airlockCli(['env', '--role', world.roleArn]);
    expect(printed.code, printed.stderr).toBe(0);
    expect(printed.stdout).toContain(`export AWS_ENDPOINT_URL='${airlock.url}'`);
    expect(printed.stdout).toContain(`export AWS_WEB_IDENTITY_TOKEN_FILE='${join(configDir, 'web-identity-token')}'`);
    expect(printed.stdout).toContain("export AWS_REGION='us-east-1'");
    for (const secret of secretsIn(await storedLogin())) expect(printed.stdout).not.toContain(secret);
    const script = `eval "$('${process.execPath}' '${cliPath}' env --role '${world.roleArn}')" && aws sts get-caller-identity`;
    const ran = await run('sh', ['-c', script]);
    expect(ran.code, ran.stderr).toBe(0);
    expect(JSON.parse(ran.stdout).Arn).toMatch(/assumed-role\/agent\/airlock-alice$/);

    const withCredentials = await airlockCli(['env', '--role', world.roleArn, '--credentials']);
    expect(withCredentials.stdout).toMatch(/^export AWS_SESSION_TOKEN='.+'$/m);
    const viaCredentials = await run('sh', ['-c', `eval "$('${process.execPath}' '${cliPath}' env --credentials --role '${world.roleArn}')" && aws sts get-caller-identity`]);
    expect(viaCredentials.code, viaCredentials.stderr).toBe(0);
  });

  it('lists sessions as a table and as JSON, and revokes one by id and all of a subject', async () => {
    const listed = await airlockCli(['sessions', 'active', '--subject', 'alice']);
    expect(listed.code, listed.stderr).toBe(0);
    expect(listed.stdout.split('\n')[0]).toMatch(/^SESSION +SUBJECT +NAME +ISSUER +ROLE +ISSUED +EXPIRES +STATE$/);
    const json = JSON.parse((await airlockCli(['sessions', 'active', '--json'])).stdout) as { sessions: { sessionId: string; subject: string; revoked: boolean }[] };
    const alices = json.sessions.filter((session) => session.subject === 'alice' && !session.revoked);
    expect(alices.length).toBeGreaterThan(0);
    const [first] = alices;
    expect(listed.stdout).toContain(first!.sessionId);

    const one = await airlockCli(['sessions', 'revoke', first!.sessionId]);
    expect(one.code, one.stderr).toBe(0);
    expect(one.stdout).toContain(`Revoked 1 session:\n  ${first!.sessionId}`);
    const after = JSON.parse((await airlockCli(['sessions', 'active', '--json', '--subject', 'alice'])).stdout) as typeof json;
    expect(after.sessions.find((session) => session.sessionId === first!.sessionId)?.revoked).toBe(true);

    const all = await airlockCli(['sessions', 'revoke', '--subject', 'alice', '--issuer', idp.issuer, '--json']);
    expect(all.code, all.stderr).toBe(0);
    expect(JSON.parse(all.stdout).revoked).toEqual(expect.arrayContaining(alices.slice(1).map((session) => session.sessionId)));
    // The cached credential_process credentials belong to a revoked session now: Airlock refuses them.
    const cached = JSON.parse((await airlockCli(['credentials', '--role', world.roleArn])).stdout);
    const refused = await run('aws', ['sts', 'get-caller-identity'], personEnv({
      AWS_ENDPOINT_URL: airlock.url,
      AWS_DEFAULT_REGION: 'us-east-1',
      AWS_ACCESS_KEY_ID: cached.AccessKeyId,
      AWS_SECRET_ACCESS_KEY: cached.SecretAccessKey,
      AWS_SESSION_TOKEN: cached.SessionToken,
    }));
    expect(refused.code).not.toBe(0);
    expect(refused.stderr).toContain('This Airlock session was revoked');
    // --fresh leaves the cache aside: a new session, which works.
    const fresh = JSON.parse((await airlockCli(['credentials', '--role', world.roleArn, '--fresh'])).stdout);
    expect(fresh.AccessKeyId).not.toBe(cached.AccessKeyId);
    expect(JSON.parse((await airlockCli(['credentials', '--role', world.roleArn])).stdout).AccessKeyId).toBe(fresh.AccessKeyId);
  });

  it('refuses a session list to someone outside admin.groups asking for another subject, with the edge\'s message and exit 1', async () => {
    const bobHome = join(scratch, 'bob');
    const bobEnv = personEnv({ AIRLOCK_CONFIG_DIR: bobHome });
    const ran = await login(['--issuer', idp.issuer, '--client-id', idp.clientId, '--endpoint', airlock.url], (code) => idp.approve(code, 'bob'), bobEnv);
    expect(ran.code, ran.stderr).toBe(0);
    const refused = await airlockCli(['sessions', 'active', '--subject', 'alice'], bobEnv);
    expect(refused.code).toBe(1);
    expect(refused.stderr.trim()).toMatch(/^airlock: Airlock refused: AccessDenied: Only members of an admin group/);
    expect(refused.stderr.trim().split('\n')).toHaveLength(1);
  });

  it('refreshes the token with the refresh token when it is close to expiry', async () => {
    idp.setIdTokenTtl(12);
    try {
      const ran = await login(['--issuer', idp.issuer, '--client-id', idp.clientId], (code) => idp.approve(code, 'alice'));
      expect(ran.code, ran.stderr).toBe(0);
      const before = await storedLogin();
      idp.setIdTokenTtl(3600);
      // Refreshed once less than half of a short-lived token's life is left.
      await new Promise((resolve) => setTimeout(resolve, 6500));
      const whoami = await airlockCli(['whoami']);
      expect(whoami.code, whoami.stderr).toBe(0);
      const after = await storedLogin();
      expect(after.idToken).not.toBe(before.idToken);
      expect(after.refreshToken).not.toBe(before.refreshToken);
      expect((await airlockCli(['whoami'])).code).toBe(0);
      expect((await storedLogin()).idToken).toBe(after.idToken);
    } finally {
      idp.setIdTokenTtl(3600);
    }
  });

  it('ends a refused login with exit code 1 and a one-line message', async () => {
    const ran = await login(['--issuer', idp.issuer, '--client-id', idp.clientId], (code) => idp.deny(code));
    expect(ran.code).toBe(1);
    expect(ran.stderr.trim().split('\n').pop()).toBe('airlock: the sign-in was refused at the identity provider');
  });

  it('answers usage errors with exit code 2, and failures with exit code 1', async () => {
    expect((await airlockCli(['credentials'])).code).toBe(2);
    expect((await airlockCli(['credentials', '--role', 'not-an-arn'])).code).toBe(2);
    expect((await airlockCli(['sessions', 'revoke'])).code).toBe(2);
    expect((await airlockCli(['exec', '--role', world.roleArn, 'aws'])).code).toBe(2);
    expect((await airlockCli(['whoami'], personEnv({ AIRLOCK_CONFIG_DIR: join(scratch, 'nobody') }))).stderr).toBe(
      'airlock: not logged in: run airlock login --issuer URL --client-id ID\n',
    );
    const closedPort = await freePort();
    const unreachable = await airlockCli(['whoami', '--endpoint', `http://127.0.0.1:${closedPort}`]);
    expect(unreachable.code).toBe(1);
    expect(unreachable.stderr).toBe(`airlock: cannot reach Airlock at http://127.0.0.1:${closedPort}: ECONNREFUSED\n`);
  });

  it('never leaks a token or a secret into Airlock\'s logs', async () => {
    const logs = airlock.output();
    for (const secret of secretsIn(await storedLogin())) expect(logs).not.toContain(secret);
  });
});
