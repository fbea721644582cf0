import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse, stringify } from 'yaml';
import { startEmbeddedAirlock, type AirlockUnderTest } from '../support/airlock.js';
import { freePort } from '../support/peers.js';

const run = promisify(execFile);
const cliPath = fileURLToPath(new URL('../../cli/dist/main.js', import.meta.url));

/**
 * One process's lifecycle, from the outside: readiness, the `airlock probe` health check containers run, reload on
 * SIGHUP (a bad file refused, the process serving on), and a drain on SIGTERM that ends with the process stopping by
 * itself. (Drain under load, with held approvals, across edges: load-balanced.test.ts.)
 */
describe('lifecycle: readiness, probe, reload on SIGHUP, drain on SIGTERM', () => {
  let airlock: AirlockUnderTest;
  let configPath: string;

  beforeAll(async () => {
    airlock = await startEmbeddedAirlock({
      config: { policy: { files: [fileURLToPath(new URL('../../policies/default.cedar', import.meta.url))] }, lifecycle: { drainSeconds: 2 }, logging: { level: 'info' } },
      env: { AIRLOCK_SESSION_KEYS: `life-1:${randomBytes(32).toString('base64')}` },
    });
    configPath = join(airlock.dataDir, 'airlock.yaml');
  });

  afterAll(async () => {
    await airlock?.stop();
  });

  const waitForOutput = async (text: string) => {
    for (let attempt = 0; attempt < 100 && !airlock.output().includes(text); attempt++) await sleep(100);
    return airlock.output();
  };

  it('is ready, and says so to `airlock probe`; a probe of nothing fails', async () => {
    // The operations listener says what readiness rests on; the public port, which every agent reaches, only whether.
    const response = await fetch(`${airlock.opsUrl}/_airlock/ready`);
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ ready: true, state: 'running', failing: [] });
    const bare = await fetch(`${airlock.url}/_airlock/ready`);
    expect(bare.status).toBe(200);
    expect(await bare.json()).toEqual({ ready: true });
    // Probes are answered whatever Host they name: kubelets and load balancers use the pod's address.
    const probed = await fetch(`${airlock.url}/_airlock/health`, { headers: { host: 'pod-10-0-0-7:4566' } });
    expect(probed.status).toBe(200);
    expect((await fetch(`${airlock.opsUrl}/_airlock/health`)).status).toBe(200);
    await run(process.execPath, [cliPath, 'probe', '--http', `${airlock.opsUrl}/_airlock/ready`]);
    await run(process.execPath, [cliPath, 'probe', '--http', `${airlock.url}/_airlock/ready`]);
    const unused = await freePort();
    const failed = await run(process.execPath, [cliPath, 'probe', '--grpc', `127.0.0.1:${unused}`, '--timeout', '500']).catch((error: { code: number }) => error);
    expect((failed as { code: number }).code).toBe(1);
    const usage = await run(process.execPath, [cliPath, 'probe']).catch((error: { code: number }) => error);
    expect((usage as { code: number }).code).toBe(2);
  });

  it('reloads on SIGHUP: applies what it can, names what needs a restart, refuses a bad file and serves on', async () => {
    const original = await readFile(configPath, 'utf8');
    const config = parse(original) as Record<string, Record<string, unknown>>;
    await writeFile(configPath, stringify({ ...config, logging: { level: 'debug' }, edge: { ...config.edge, approvalWaitSeconds: 5 } }));
    process.kill(airlock.pid()!, 'SIGHUP');
    const reloaded = await waitForOutput('configuration reloaded');
    expect(reloaded).toMatch(/"restartNeeded":\["edge"\].*configuration reloaded; these sections change only after a restart/);

    await writeFile(configPath, 'edge: { listen: 12 }\n');
    process.kill(airlock.pid()!, 'SIGHUP');
    expect(await waitForOutput('configuration reload refused')).toMatch(/edge\.listen/);
    expect((await fetch(`${airlock.url}/_airlock/ready`)).status).toBe(200);
    await writeFile(configPath, original);
  });

  it('refuses to start an edge whose operations address is taken, naming the setting', async () => {
    const second = startEmbeddedAirlock({
      config: { policy: { files: [fileURLToPath(new URL('../../policies/default.cedar', import.meta.url))] }, edge: { opsListen: new URL(airlock.opsUrl).host } },
      env: { AIRLOCK_SESSION_KEYS: `life-2:${randomBytes(32).toString('base64')}` },
    });
    await expect(second).rejects.toThrow(/edge\.opsListen 127\.0\.0\.1:\d+ cannot be bound \(EADDRINUSE\); give each edge on this machine its own/);
  });

  it('drains on SIGTERM and stops by itself', async () => {
    await airlock.stop();
    const output = airlock.output();
    expect(output).toMatch(/"signal":"SIGTERM","drainSeconds":2,"msg":"draining"/);
    expect(output).toContain('"msg":"edge drained"');
    expect(output).toContain('"msg":"stopped"');
    await expect(fetch(`${airlock.url}/_airlock/health`)).rejects.toThrow();
    await expect(fetch(`${airlock.opsUrl}/_airlock/health`)).rejects.toThrow();
  });
});
