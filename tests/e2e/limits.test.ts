import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { DescribeRegionsCommand, EC2Client } from '@aws-sdk/client-ec2';
import { DynamoDBClient, ListTablesCommand } from '@aws-sdk/client-dynamodb';
import { CreateBucketCommand, DeleteObjectCommand, ListObjectsV2Command, S3Client } from '@aws-sdk/client-s3';
import { AssumeRoleWithWebIdentityCommand, STSClient } from '@aws-sdk/client-sts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startEmbeddedAirlock, type AirlockUnderTest } from '../support/airlock.js';
import { createAwsWorld, type AwsWorld } from '../support/aws-world.js';
import { startIdp, type TestIdp } from '../support/idp.js';

const repoRoot = fileURLToPath(new URL('../..', import.meta.url));
const bucket = 'limits-e2e';
type Credentials = { accessKeyId: string; secretAccessKey: string; sessionToken: string };

/**
 * Protection at the edge, seen by stock SDKs: a principal over its rate gets the throttling error of the protocol it
 * speaks and its SDK backs off and retries until the call goes through; other principals are not slowed; calls beyond
 * the concurrency limit are shed the same way instead of piling up.
 */
describe('rate and concurrency limits answer with retryable throttling errors', () => {
  let world: AwsWorld;
  let idp: TestIdp;
  let airlock: AirlockUnderTest;

  beforeAll(async () => {
    [world, idp] = await Promise.all([createAwsWorld(), startIdp({ audience: 'airlock' })]);
    airlock = await startEmbeddedAirlock({
      config: {
        identity: { issuers: [{ issuer: idp.issuer, audience: 'airlock' }] },
        upstream: { endpoint: world.moto.url },
        // Destroying writes wait for an approver: held calls are how this test fills the edge.
        policy: { files: [join(repoRoot, 'policies/default.cedar')] },
        edge: {
          allowedRegions: ['us-east-1'],
          approvalWaitSeconds: 60,
          limits: { maxConcurrentCalls: 3, principal: { ratePerSecond: 2, burst: 4 } },
        },
      },
      env: { ...world.vendingEnv, AIRLOCK_SESSION_KEYS: `test-1:${randomBytes(32).toString('base64')}` },
    });
    const setup = new S3Client({ region: 'us-east-1', endpoint: airlock.url, forcePathStyle: true, credentials: await assume('setup') });
    await setup.send(new CreateBucketCommand({ Bucket: bucket }));
  });

  afterAll(async () => {
    await airlock?.stop();
    await Promise.all([world?.stop(), idp?.stop()]);
  });

  /** An agent's session: each client id is its own principal. */
  async function assume(clientId: string): Promise<Credentials> {
    const sts = new STSClient({ region: 'us-east-1', endpoint: airlock.url, maxAttempts: 1 });
    const { Credentials: issued } = await sts.send(
      new AssumeRoleWithWebIdentityCommand({ RoleArn: world.roleArn, RoleSessionName: clientId, WebIdentityToken: await idp.issueToken({ clientId }) }),
    );
    return { accessKeyId: issued!.AccessKeyId!, secretAccessKey: issued!.SecretAccessKey!, sessionToken: issued!.SessionToken! };
  }
  const s3 = (credentials: Credentials, maxAttempts: number) =>
    new S3Client({ region: 'us-east-1', endpoint: airlock.url, forcePathStyle: true, credentials, maxAttempts });

  const errorName = (settled: PromiseSettledResult<unknown>) => (settled.status === 'rejected' ? (settled.reason as Error).name : 'ok');
  const statusOf = (settled: PromiseSettledResult<unknown>) =>
    settled.status === 'rejected' ? (settled.reason as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode : 200;

  /** One counter from the edge's Prometheus endpoint. */
  const metric = async (name: string, labels: string): Promise<number> => {
    const text = await (await fetch(`${airlock.opsUrl}/_airlock/metrics`)).text();
    const line = text.split('\n').find((candidate) => candidate.startsWith(`${name}{${labels}}`) || (labels === '' && candidate.startsWith(`${name} `)));
    return line ? Number(line.slice(line.lastIndexOf(' ') + 1)) : 0;
  };
  const until = async (condition: () => Promise<boolean>) => {
    for (let round = 0; round < 300 && !(await condition()); round++) await new Promise((resolve) => setTimeout(resolve, 100));
  };

  it('throttles a principal over its rate in each protocol, and its SDK retries through', async () => {
    const agent = await assume('busy-agent');
    const other = await assume('quiet-agent');
    // Without retries, the calls beyond the burst are refused with S3's throttling error, 503 SlowDown.
    const burst = await Promise.allSettled(Array.from({ length: 8 }, () => s3(agent, 1).send(new ListObjectsV2Command({ Bucket: bucket }))));
    expect(burst.map(errorName).filter((name) => name === 'ok').length).toBeLessThanOrEqual(4);
    expect(burst.map(errorName)).toContain('SlowDown');
    expect(burst.filter((settled) => errorName(settled) === 'SlowDown').map(statusOf)).toEqual(expect.arrayContaining([503]));
    // Another principal has its own bucket: not slowed at all.
    const others = await Promise.allSettled(Array.from({ length: 3 }, () => s3(other, 1).send(new ListObjectsV2Command({ Bucket: bucket }))));
    expect(others.map(errorName)).toEqual(['ok', 'ok', 'ok']);
    // Other protocols get their own throttling codes (what passes the limit is refused by moto's IAM: not the subject).
    const dynamo = new DynamoDBClient({ region: 'us-east-1', endpoint: airlock.url, credentials: agent, maxAttempts: 1 });
    const ec2 = new EC2Client({ region: 'us-east-1', endpoint: airlock.url, credentials: agent, maxAttempts: 1 });
    const json = await Promise.allSettled(Array.from({ length: 6 }, () => dynamo.send(new ListTablesCommand({}))));
    expect(json.map(errorName)).toContain('ThrottlingException');
    const query = await Promise.allSettled(Array.from({ length: 6 }, () => ec2.send(new DescribeRegionsCommand({}))));
    expect(query.map(errorName)).toContain('RequestLimitExceeded');
    // With the SDK's standard retries every call goes through, some after being throttled and retried.
    const retried = await Promise.all(Array.from({ length: 6 }, () => s3(agent, 10).send(new ListObjectsV2Command({ Bucket: bucket }))));
    expect(Math.max(...retried.map((output) => output.$metadata.attempts ?? 1))).toBeGreaterThan(1);
    expect(await metric('airlock_edge_throttled_total', 'limit="principal"')).toBeGreaterThan(0);
  });

  it('sheds calls beyond the concurrency limit with SlowDown, and the SDK retries once there is room', async () => {
    const holders = await Promise.all(['holder-1', 'holder-2', 'holder-3'].map(assume));
    const newcomer = await assume('newcomer');
    // Three deletes wait for an approver: the edge is now as busy as it is allowed to be.
    const release = new AbortController();
    const held = holders.map((credentials, index) =>
      s3(credentials, 1).send(new DeleteObjectCommand({ Bucket: bucket, Key: `held-${index}` }), { abortSignal: release.signal }).catch((error: Error) => error.name),
    );
    await until(async () => (await metric('airlock_edge_calls_in_flight', '')) >= 3);
    expect(await metric('airlock_edge_calls_in_flight', '')).toBe(3);
    const shed = await s3(newcomer, 1)
      .send(new ListObjectsV2Command({ Bucket: bucket }))
      .catch((error: { name: string; $metadata: { httpStatusCode?: number } }) => error);
    expect(shed).toMatchObject({ name: 'SlowDown', $metadata: { httpStatusCode: 503 } });

    // A retrying client is shed until the held calls end, then served.
    const shedBefore = await metric('airlock_edge_throttled_total', 'limit="concurrency"');
    const retrying = s3(newcomer, 10).send(new ListObjectsV2Command({ Bucket: bucket }));
    await until(async () => (await metric('airlock_edge_throttled_total', 'limit="concurrency"')) > shedBefore);
    release.abort();
    const served = await retrying;
    expect(served.$metadata.attempts).toBeGreaterThan(1);
    expect(await Promise.all(held)).toEqual(['AbortError', 'AbortError', 'AbortError']);
    await until(async () => (await metric('airlock_edge_calls_in_flight', '')) === 0);
    expect(await metric('airlock_edge_calls_in_flight', '')).toBe(0);
  });
});
