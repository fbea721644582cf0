/**
 * Start-up of the `airlock` command line: wall time from spawning `node cli/dist/main.js …` to its exit, for the help
 * texts and the commands people type, and for `airlock credentials` (AWS clients run it as their credential_process
 * before every call). Baselines in the same rounds: `node -e 0`, the floor of any Node program, and `aws --version`, a
 * peer command line. The live commands talk to an embedded Airlock (`airlock dev`) with a stored login whose ID token
 * comes from a token forge. Rounds are interleaved (each round runs every command once, in order), so a machine
 * whose load drifts weighs on every command alike; the first round warms the disk cache and is not counted.
 * BENCH_CLI_COMPARE=/path/to/other/cli/dist/main.js measures another build of the CLI in the same rounds (before/after).
 * Results go to bench/results/cli.json; BENCHMARKS.md holds them with the method and the machine.
 */
import { spawn } from 'node:child_process';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { cpus, loadavg, tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { saveLogin } from '../cli/src/people/login-store.js';
import { startEmbeddedAirlock, type AirlockUnderTest } from '../tests/support/airlock.js';
import { startTokenForge, type TokenForge } from '../tests/support/token-forge.js';
import { startFakeAws, type FakeAws } from './fake-aws.js';
import { summarize, type LatencySummary } from './load.js';

const repoRoot = fileURLToPath(new URL('..', import.meta.url));
const cli = join(repoRoot, 'cli/dist/main.js');
const compare = process.env.BENCH_CLI_COMPARE;
const rounds = Number(process.env.BENCH_RUNS ?? 20);
const role = 'arn:aws:iam::123456789012:role/agent';

interface Case {
  name: string;
  command: string;
  args: string[];
  /** The exit code the command must end with, so that a broken command cannot pass for a fast one. */
  exit: number;
  /** Whether it runs `airlock` (and so also runs from BENCH_CLI_COMPARE's build). */
  airlock: boolean;
}

interface Measured extends LatencySummary {
  minMs: number;
  /** Median over the median of `node -e 0` in the same rounds. */
  xNode: number;
}

let forge: TokenForge;
let upstream: FakeAws;
let airlock: AirlockUnderTest;
let scratch: string;
const report: Record<string, unknown> = { loadAverageAtStart: loadavg().map((value) => Number(value.toFixed(1))), rounds };

beforeAll(async () => {
  scratch = await mkdtemp(join(tmpdir(), 'airlock-cli-bench-'));
  [forge, upstream] = await Promise.all([startTokenForge(), startFakeAws()]);
  airlock = await startEmbeddedAirlock({
    config: {
      identity: { issuers: [{ issuer: forge.issuer, audience: 'airlock-cli', kind: 'people' }] },
      upstream: { endpoint: upstream.url },
      policy: { files: ['policies/default.cedar'] },
      logging: { level: 'warn' },
    },
    env: { AWS_ACCESS_KEY_ID: 'bench', AWS_SECRET_ACCESS_KEY: 'bench', AWS_REGION: 'us-east-1' },
  });
  const now = Math.floor(Date.now() / 1000);
  // What `airlock login` would have stored: an ID token valid for two hours, so no refresh happens while measuring.
  await saveLogin(join(scratch, 'person'), {
    version: 1,
    issuer: forge.issuer,
    clientId: 'airlock-cli',
    scope: 'openid',
    tokenEndpoint: `${forge.issuer}/token`,
    endpoint: airlock.url,
    idToken: await forge.sign({ sub: 'bench-person', aud: 'airlock-cli', name: 'Bench Person', exp: now + 7200, iat: now }),
    obtainedAt: new Date().toISOString(),
  });
  await mkdir(join(scratch, 'nobody'));
  // For the recorded sessions: an embedded configuration (recordings in files under dataDir), none recorded yet.
  await writeFile(join(scratch, 'airlock.yaml'), JSON.stringify({ dataDir: join(scratch, 'data'), identity: { issuers: [{ issuer: forge.issuer, audience: 'airlock-cli' }] } }));
});

afterAll(async () => {
  await Promise.all([airlock?.stop(), forge?.stop(), upstream?.stop()]);
  if (scratch) await rm(scratch, { recursive: true, force: true });
  report.machine = { cpus: cpus().length, model: cpus()[0]?.model, memoryGiB: Math.round(totalmem() / 2 ** 30), node: process.version };
  report.loadAverageAtEnd = loadavg().map((value) => Number(value.toFixed(1)));
  await mkdir('bench/results', { recursive: true });
  await writeFile('bench/results/cli.json', `${JSON.stringify(report, null, 2)}\n`);
  console.log(JSON.stringify(report, null, 2));
});

/** Wall time of one process, spawn to exit (its output read and dropped), and its exit code. */
function timeOnce(command: string, args: string[], configDir: string): Promise<{ ms: number; exit: number | null }> {
  return new Promise((resolve, reject) => {
    const start = performance.now();
    const child = spawn(command, args, {
      cwd: repoRoot,
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { PATH: process.env.PATH ?? '', HOME: scratch, AIRLOCK_CONFIG_DIR: configDir },
    });
    child.stdout.resume();
    child.stderr.resume();
    child.once('error', reject);
    child.once('close', (exit) => resolve({ ms: performance.now() - start, exit }));
  });
}

/** Runs every case once per round, in order, and summarises each; exit codes are checked on every run. */
async function measure(cases: Case[], configDir: string): Promise<Record<string, Measured>> {
  const builds = compare ? [['', cli] as const, [' (compared build)', compare] as const] : [['', cli] as const];
  const runs = cases.flatMap((entry) =>
    entry.airlock ? builds.map(([suffix, main]) => ({ ...entry, name: `${entry.name}${suffix}`, args: [main, ...entry.args] })) : [entry],
  );
  const times = new Map<string, number[]>(runs.map((run) => [run.name, []]));
  for (let round = 0; round <= rounds; round++) {
    for (const run of runs) {
      const { ms, exit } = await timeOnce(run.command, run.args, configDir);
      expect(exit, `${run.name} exit code`).toBe(run.exit);
      if (round > 0) times.get(run.name)!.push(ms);
    }
  }
  const floor = summarize([...times.get('node -e 0')!]).p50Ms;
  return Object.fromEntries(
    [...times].map(([name, latencies]) => {
      const summary = summarize(latencies);
      return [name, { ...summary, minMs: round(latencies[0]!), xNode: round(summary.p50Ms / floor) }];
    }),
  );
}

const node = (name: string, args: string[], exit = 0): Case => ({ name, command: process.execPath, args, exit, airlock: true });
const baselines: Case[] = [{ name: 'node -e 0', command: process.execPath, args: ['-e', '0'], exit: 0, airlock: false }];

it('help and offline commands', async () => {
  const aws = await timeOnce('aws', ['--version'], scratch).then(
    () => true,
    () => false,
  );
  const cases: Case[] = [
    ...baselines,
    ...(aws ? [{ name: 'aws --version', command: 'aws', args: ['--version'], exit: 0, airlock: false }] : []),
    node('airlock --help', ['--help']),
    node('airlock credentials --help', ['credentials', '--help']),
    node('airlock approvals list --help', ['approvals', 'list', '--help']),
    node('airlock dev --help', ['dev', '--help']),
    node('airlock whoami (not logged in)', ['whoami'], 1),
    node('airlock policy validate policies/default.cedar', ['policy', 'validate', 'policies/default.cedar']),
    node('airlock sessions list (recordings in files)', ['sessions', 'list', '--config', join(scratch, 'airlock.yaml')]),
  ];
  report.offline = await measure(cases, join(scratch, 'nobody'));
});

it('people commands against a running Airlock', async () => {
  const cases: Case[] = [
    ...baselines,
    node('airlock whoami', ['whoami']),
    node('airlock credentials (cached: credential_process)', ['credentials', '--role', role]),
    node('airlock credentials --fresh (STS exchange)', ['credentials', '--role', role, '--fresh']),
    node('airlock approvals list', ['approvals', 'list']),
    node('airlock sessions active', ['sessions', 'active']),
  ];
  report.live = await measure(cases, join(scratch, 'person'));
});

function round(value: number): number {
  return Math.round(value * 10) / 10;
}
