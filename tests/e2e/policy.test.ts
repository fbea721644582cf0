import { execFile } from 'node:child_process';
import { copyFile, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Decision, PolicyServiceService, type DecideRequest } from '@airlock/contracts';
import { createLogger } from '@airlock/logging';
import { createPolicyService, type PolicyServiceRuntime } from '@airlock/policy';
import { bindService, createGrpcClient, startGrpcServer, type ClosableClient, type RunningGrpcServer } from '@airlock/transport';

const repoRoot = fileURLToPath(new URL('../..', import.meta.url));
const cli = join(repoRoot, 'cli', 'dist', 'main.js');
const run = promisify(execFile);
const instance = 'arn:aws:ec2:eu-west-1:123456789012:instance/i-0123456789abcdef0';

function terminate(groups: string[]): DecideRequest {
  return {
    principal: { subject: 'sam', issuer: 'https://idp.example.com', groups, sessionId: 's', name: 'Sam' },
    call: { service: 'ec2', operation: 'TerminateInstances', action: 'ec2:TerminateInstances', resources: [instance], region: 'eu-west-1', roleArn: '', parameters: {} },
    context: { operationKnown: 'true' },
  };
}

/**
 * The policy service on its own, over gRPC, with the seed's rule loaded from a directory: its decisions, and a reload
 * under load (file edits seen by the watcher, explicit reloads, a bad file in between) in which no call fails.
 */
describe('policy service over gRPC: the seed rule, hot reload under load', () => {
  let dir: string;
  let service: PolicyServiceRuntime;
  let server: RunningGrpcServer;
  let grpc: ClosableClient<typeof PolicyServiceService>;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'airlock-policy-e2e-'));
    await mkdir(join(dir, 'policies'));
    await copyFile(join(repoRoot, 'policies', 'examples', 'ec2-terminate.cedar'), join(dir, 'policies', 'ec2-terminate.cedar'));
    service = await createPolicyService({ files: [join(dir, 'policies')], logger: createLogger({ service: 'policy', level: 'silent' }), watch: { debounceMs: 50 }, reloadSignal: false });
    await service.start?.();
    server = await startGrpcServer({ listen: '127.0.0.1:0', services: [bindService(service.definition, service.implementation)] });
    grpc = createGrpcClient(PolicyServiceService, { address: `127.0.0.1:${server.port}`, serviceName: 'policy' });
  });
  afterAll(async () => {
    grpc?.close();
    await server?.close();
    await service?.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('holds a senior engineer’s terminate for a manager and denies everyone else', async () => {
    const senior = await grpc.client.decide(terminate(['senior-engineers']));
    expect(senior).toMatchObject({ decision: Decision.DECISION_APPROVAL_REQUIRED, approval: { approverGroups: ['managers'], quorum: 1 } });
    const junior = await grpc.client.decide(terminate(['engineers']));
    expect(junior).toMatchObject({ decision: Decision.DECISION_DENY, policyIds: ['ec2-terminate-only-senior-engineers'] });
    expect(junior.reason).toContain('Only senior engineers may terminate EC2 instances');
  });

  it('answers every call while policies are edited, reloaded and broken, and ends on the last good set', async () => {
    let stop = false;
    let calls = 0;
    const failures: unknown[] = [];
    const decisions = new Set<Decision>();
    const worker = async () => {
      while (!stop) {
        try {
          const response = await grpc.client.decide(terminate(['senior-engineers']));
          decisions.add(response.decision);
          calls++;
        } catch (error) {
          failures.push(error);
        }
      }
    };
    const workers = Array.from({ length: 8 }, worker);
    const freeze = join(dir, 'policies', 'zz-freeze.cedar');
    for (let round = 0; round < 10; round++) {
      // A change freeze comes and goes; every other time it is saved broken first, which must be rejected.
      if (round % 2 === 1) {
        await writeFile(freeze, '@id("freeze") forbid (principal, action');
        expect(await service.reload()).toMatchObject({ ok: false });
      }
      await writeFile(freeze, round % 2 === 0 ? '@id("freeze") @reason("change freeze") forbid (principal, action, resource);' : '// no freeze\n');
      expect(await service.reload()).toMatchObject({ ok: true });
    }
    await writeFile(freeze, '@id("freeze") @reason("change freeze") forbid (principal, action, resource);');
    await expect.poll(async () => (await grpc.client.decide(terminate(['senior-engineers']))).reason, { timeout: 30_000 }).toBe('change freeze');
    stop = true;
    await Promise.all(workers);
    expect(failures).toEqual([]);
    expect(calls).toBeGreaterThan(50);
    expect(decisions).toEqual(new Set([Decision.DECISION_APPROVAL_REQUIRED, Decision.DECISION_DENY]));
  });
});

describe('airlock policy on the command line', () => {
  it('runs the example fixtures, as a team’s CI would', async () => {
    const { stdout } = await run(process.execPath, [cli, 'policy', 'test', 'policies/examples/ec2-terminate.fixtures.yaml'], { cwd: repoRoot });
    expect(stdout).toMatch(/^5 passed, 0 failed /m);
  });

  it('validates the shipped policies, and exits 1 with Cedar’s position on a bad file', async () => {
    const { stdout } = await run(process.execPath, [cli, 'policy', 'validate', 'policies', 'policies/examples'], { cwd: repoRoot });
    expect(stdout).toMatch(/^OK: \d+ policies in 2 files/);
    const dir = await mkdtemp(join(tmpdir(), 'airlock-policy-cli-'));
    try {
      await writeFile(join(dir, 'bad.cedar'), 'permit (principal, action, resource);\nforbid (principal, action\n');
      const failed = run(process.execPath, [cli, 'policy', 'validate', dir], { cwd: repoRoot });
      await expect(failed).rejects.toMatchObject({ code: 1, stderr: expect.stringMatching(/bad\.cedar is invalid: line 2, column 26: /) });
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
