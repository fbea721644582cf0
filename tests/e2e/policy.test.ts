import { execFile } from 'node:child_process';
import { copyFile, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { randomBytes } from 'node:crypto';
import { CreateUserCommand, IAMClient } from '@aws-sdk/client-iam';
import { CreateBucketCommand, DeleteObjectCommand, GetObjectCommand, ListBucketsCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { GetSessionTokenCommand, STSClient } from '@aws-sdk/client-sts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Decision, type DecideRequest } from '@airlock/contracts';
import { createLogger } from '@airlock/logging';
import type { PolicyServiceRuntime } from '@airlock/policy';
import { assumeThroughAirlock, s3ThroughAirlock, type SessionCredentials } from '../support/agent-credentials.js';
import { startEmbeddedAirlock, type AirlockUnderTest } from '../support/airlock.js';
import { createAwsWorld, type AwsWorld } from '../support/aws-world.js';
import { startIdp, type TestIdp } from '../support/idp.js';
import { servePolicy, type ServedPolicy } from '../support/policy-server.js';

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
  let served: ServedPolicy;
  let service: PolicyServiceRuntime;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'airlock-policy-e2e-'));
    await mkdir(join(dir, 'policies'));
    await copyFile(join(repoRoot, 'policies', 'examples', 'ec2-terminate.cedar'), join(dir, 'policies', 'ec2-terminate.cedar'));
    served = await servePolicy({ files: [join(dir, 'policies')], logger: createLogger({ service: 'policy', level: 'silent' }), watch: { debounceMs: 50 }, reloadSignal: false });
    ({ service } = served);
  });
  afterAll(async () => {
    await served?.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('holds a senior engineer’s terminate for a manager and denies everyone else', async () => {
    const senior = await served.client.decide(terminate(['senior-engineers']));
    expect(senior).toMatchObject({ decision: Decision.DECISION_APPROVAL_REQUIRED, approval: { approverGroups: ['managers'], quorum: 1 } });
    const junior = await served.client.decide(terminate(['engineers']));
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
          const response = await served.client.decide(terminate(['senior-engineers']));
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
    await expect.poll(async () => (await served.client.decide(terminate(['senior-engineers']))).reason, { timeout: 30_000 }).toBe('change freeze');
    stop = true;
    await Promise.all(workers);
    expect(failures).toEqual([]);
    expect(calls).toBeGreaterThan(50);
    expect(decisions).toEqual(new Set([Decision.DECISION_APPROVAL_REQUIRED, Decision.DECISION_DENY]));
  });
});

describe('airlock policy on the command line', () => {
  it('runs the example fixtures and the default pack’s, as a team’s CI would', async () => {
    const { stdout } = await run(process.execPath, [cli, 'policy', 'test', 'policies/examples/ec2-terminate.fixtures.yaml'], { cwd: repoRoot });
    expect(stdout).toMatch(/^5 passed, 0 failed /m);
    const pack = await run(process.execPath, [cli, 'policy', 'test', 'policies/default.fixtures.yaml'], { cwd: repoRoot });
    expect(pack.stdout).toMatch(/^\d+ passed, 0 failed /m);
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

/**
 * `airlock dev` with the default pack, a shadow candidate and the edge's decision cache, against moto and a real IdP,
 * called by the stock AWS SDK: what the pack lets an agent do, what it holds for a person, what the candidate would
 * have decided, and a policy edit reaching the edge through the cache.
 */
describe('the default pack through the edge, with a shadow set and the decision cache', () => {
  let scratch: string;
  let world: AwsWorld;
  let idp: TestIdp;
  let airlock: AirlockUnderTest;
  let agent: SessionCredentials;
  const freeze = () => join(scratch, 'policies', 'zz-freeze.cedar');

  beforeAll(async () => {
    scratch = await mkdtemp(join(tmpdir(), 'airlock-policy-pack-'));
    await mkdir(join(scratch, 'policies'));
    await copyFile(join(repoRoot, 'policies', 'default.cedar'), join(scratch, 'policies', 'default.cedar'));
    // The candidate: the default pack, plus listing every bucket forbidden.
    await mkdir(join(scratch, 'candidate'));
    await copyFile(join(repoRoot, 'policies', 'default.cedar'), join(scratch, 'candidate', 'default.cedar'));
    await writeFile(join(scratch, 'candidate', 'no-listing.cedar'), '@id("candidate-no-bucket-listing") forbid (principal, action == Airlock::Action::"s3:ListAllMyBuckets", resource);\n');
    [world, idp] = await Promise.all([createAwsWorld(), startIdp({ audience: 'airlock', groups: ['agents'] })]);
    airlock = await startEmbeddedAirlock({
      config: {
        identity: { issuers: [{ issuer: idp.issuer, audience: 'airlock' }] },
        upstream: { endpoint: world.moto.url },
        policy: { files: [join(scratch, 'policies')], shadow: { files: [join(scratch, 'candidate')], reportSeconds: 1 } },
        edge: { allowedRegions: ['us-east-1'], approvalWaitSeconds: 0, decisionCache: { ttlSeconds: 1 } },
        logging: { level: 'info' },
      },
      env: { ...world.vendingEnv, AIRLOCK_SESSION_KEYS: `test-1:${randomBytes(32).toString('base64')}` },
    });
    agent = await assumeThroughAirlock(airlock.url, world.roleArn, await idp.issueToken(), 'policy-pack');
  });
  afterAll(async () => {
    await airlock?.stop();
    await Promise.all([world?.stop(), idp?.stop()]);
    if (scratch) await rm(scratch, { recursive: true, force: true });
  });

  it('lets an agent read and write, holds a delete and an IAM write for an approver, and refuses credential minting', async () => {
    const s3 = s3ThroughAirlock(airlock.url, agent);
    await s3.send(new CreateBucketCommand({ Bucket: 'pack-bucket' }));
    await s3.send(new PutObjectCommand({ Bucket: 'pack-bucket', Key: 'report.csv', Body: 'a,b\n' }));
    expect((await s3.send(new ListBucketsCommand({}))).Buckets?.map((bucket) => bucket.Name)).toContain('pack-bucket');

    const held = await s3.send(new DeleteObjectCommand({ Bucket: 'pack-bucket', Key: 'report.csv' })).catch((error: Error) => error);
    expect(held).toMatchObject({ name: 'AccessDenied', message: expect.stringMatching(/approv/i) });
    // Nothing reached moto: the object is still there.
    expect(await (await s3.send(new GetObjectCommand({ Bucket: 'pack-bucket', Key: 'report.csv' }))).Body!.transformToString()).toBe('a,b\n');

    const iam = new IAMClient({ region: 'us-east-1', endpoint: airlock.url, credentials: agent, maxAttempts: 1 });
    await expect(iam.send(new CreateUserCommand({ UserName: 'escalation' }))).rejects.toMatchObject({ message: expect.stringMatching(/approv/i) });
    iam.destroy();

    const sts = new STSClient({ region: 'us-east-1', endpoint: airlock.url, credentials: agent, maxAttempts: 1 });
    await expect(sts.send(new GetSessionTokenCommand({}))).rejects.toMatchObject({ name: 'AccessDenied' });
    sts.destroy();
    s3.destroy();
  });

  it('runs the candidate beside the live set: the live answer stands, the difference is logged and counted', async () => {
    const s3 = s3ThroughAirlock(airlock.url, agent);
    await s3.send(new ListBucketsCommand({}));
    s3.destroy();
    await expect.poll(() => airlock.output(), { timeout: 20_000 }).toMatch(/"event":"policy\.shadow\.summary"[^\n]*"differed":[1-9]/);
    const diff = airlock.output().split('\n').find((line) => line.includes('"event":"policy.shadow.diff"'));
    expect(JSON.parse(diff!)).toMatchObject({ action: 's3:ListAllMyBuckets', live: { decision: 'ALLOW' }, candidate: { decision: 'DENY', policyIds: ['candidate-no-bucket-listing'] } });
  });

  it('serves a policy edit at the edge within the cache lifetime, then the next edit too', async () => {
    const s3 = s3ThroughAirlock(airlock.url, agent);
    // Twice: the second answer comes from the edge's cache.
    await s3.send(new ListBucketsCommand({}));
    await s3.send(new ListBucketsCommand({}));
    await writeFile(freeze(), '@id("freeze") @reason("change freeze") forbid (principal, action == Airlock::Action::"s3:ListAllMyBuckets", resource);\n');
    await expect
      .poll(async () => (await s3.send(new ListBucketsCommand({})).then(() => 'allowed', (error: Error) => error.message)), { timeout: 20_000, interval: 100 })
      .toContain('change freeze');
    await rm(freeze());
    await expect.poll(async () => (await s3.send(new ListBucketsCommand({})).then(() => 'allowed', (error: Error) => error.message)), { timeout: 20_000, interval: 100 }).toBe('allowed');
    s3.destroy();
  });
});
