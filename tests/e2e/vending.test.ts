/**
 * Credential vending against moto with IAM checks on (trust and role policies enforced), with the shared cache in a
 * real redis-server: two vending instances, each with its own Redis connection and in-process cache, stand for two
 * edges' worth of credential vending. AssumeRole is counted at the narrow Sts interface, in front of moto.
 */
import { randomBytes } from 'node:crypto';
import { PassThrough } from 'node:stream';
import { ListBucketsCommand, S3Client } from '@aws-sdk/client-s3';
import { GetCallerIdentityCommand, STSClient } from '@aws-sdk/client-sts';
import { IAMClient, ListUsersCommand } from '@aws-sdk/client-iam';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { VendRequest } from '@airlock/contracts';
import { createAwsSts, createCredentialVendingService, type AssumeRoleInput, type Sts } from '@airlock/credential-vending';
import { createLogger } from '@airlock/logging';
import { createRedisStateStore, type StateStore } from '@airlock/state';
import { bindInProcess } from '@airlock/transport';
import { createAwsWorld, type AwsWorld } from '../support/aws-world.js';
import { freePort, startRedis, type Peer } from '../support/peers.js';

const region = 'us-east-1';
const keySpec = `k1:${randomBytes(32).toString('base64')}`;

/** Every log line of every instance, to scan for credentials. */
const logStream = new PassThrough();
const logChunks: Buffer[] = [];
logStream.on('data', (chunk: Buffer) => logChunks.push(chunk));
const logger = createLogger({ service: 'credential-vending', level: 'debug', destination: logStream });

/** Counts and records AssumeRole calls; `down` sends them to a port where nothing listens (a real network failure). */
function upstream(live: Sts, dead: Sts) {
  const counted = {
    inputs: [] as AssumeRoleInput[],
    down: false,
    assumeRole: (input: AssumeRoleInput, options?: { signal?: AbortSignal }) => {
      counted.inputs.push(input);
      return (counted.down ? dead : live).assumeRole(input, options);
    },
  };
  return counted;
}

describe('credential vending: scoped, shared, single-flight across instances', () => {
  let world: AwsWorld;
  let redis: Peer;
  let live: Sts;
  let dead: Sts;
  const stores: StateStore[] = [];
  const runtimes: Array<{ close(): Promise<void> }> = [];
  const savedEnv = { ...process.env };
  const handedOut: string[] = [];

  beforeAll(async () => {
    [world, redis] = await Promise.all([createAwsWorld(), startRedis()]);
    // The default credential chain finds the vending identity here; nothing passes keys to the service.
    Object.assign(process.env, world.vendingEnv);
    delete process.env.AWS_SESSION_TOKEN;
    delete process.env.AWS_PROFILE;
    live = createAwsSts({ region, endpoint: world.moto.url });
    dead = createAwsSts({ region, endpoint: `http://127.0.0.1:${await freePort()}` });
  });

  afterAll(async () => {
    await Promise.all(runtimes.map((runtime) => runtime.close()));
    await Promise.all(stores.map((store) => store.close()));
    live?.close?.();
    dead?.close?.();
    await Promise.all([world?.stop(), redis?.stop()]);
    process.env = savedEnv;
  });

  async function instance(sts: Sts) {
    const store = await createRedisStateStore({ url: redis.url });
    stores.push(store);
    const runtime = await createCredentialVendingService({
      region,
      durationSeconds: 900,
      logger,
      sts,
      retry: { attempts: 3, baseDelayMs: 20, maxDelayMs: 100 },
      sharedCache: { store: async () => store, keys: keySpec, keySource: 'AIRLOCK_CREDENTIALS_CACHE_KEY' },
    });
    runtimes.push(runtime);
    return bindInProcess(runtime.definition, runtime.implementation);
  }

  const request = (overrides: Partial<VendRequest> = {}): VendRequest => ({
    principal: { subject: 'alice@example.com', issuer: 'https://idp.example', groups: ['engineers'], sessionId: 's-1', name: 'Alice' },
    roleArn: world.roleArn,
    sessionPolicy: '',
    maxDurationSeconds: 0,
    approvalId: '',
    region,
    notAfterMs: 0,
    ...overrides,
  });

  const clientAs = (credentials: { accessKeyId: string; secretAccessKey: string; sessionToken: string }) => ({
    region,
    endpoint: world.moto.url,
    credentials: { accessKeyId: credentials.accessKeyId, secretAccessKey: credentials.secretAccessKey, sessionToken: credentials.sessionToken },
  });

  it('200 concurrent cold requests over two instances sharing Redis cost exactly one AssumeRole', async () => {
    const sts = upstream(live, dead);
    const clients = [await instance(sts), await instance(sts)];
    const answers = await Promise.all(Array.from({ length: 200 }, (_, i) => clients[i % 2]!.vend(request({ principal: { ...request().principal!, sessionId: 'burst' } }))));
    expect(sts.inputs).toHaveLength(1);
    const keys = new Set(answers.map((answer) => answer.credentials!.accessKeyId));
    expect(keys.size).toBe(1);
    const credentials = answers[0]!.credentials!;
    handedOut.push(credentials.accessKeyId, credentials.secretAccessKey, credentials.sessionToken);

    // The credentials are real at moto: they act as the role, named after the caller.
    const asRole = new STSClient(clientAs(credentials));
    const identity = await asRole.send(new GetCallerIdentityCommand({}));
    asRole.destroy();
    expect(identity.Arn).toBe('arn:aws:sts::123456789012:assumed-role/agent/airlock-alice@example.com');

    // A third instance (another edge, started later) is served from Redis: still one AssumeRole.
    const late = await instance(sts);
    expect((await late.vend(request({ principal: { ...request().principal!, sessionId: 'burst' } }))).credentials?.accessKeyId).toBe(credentials.accessKeyId);
    expect(sts.inputs).toHaveLength(1);

    // What Redis holds is sealed: no credential material, no subject or role in keys or values.
    const raw = await createRedisStateStore({ url: redis.url });
    const entries: string[] = [];
    for await (const key of raw.scan('')) entries.push(`${key} ${(await raw.get(key)) ?? ''}`);
    await raw.close();
    expect(entries.some((entry) => entry.startsWith('credentials:v1:'))).toBe(true);
    for (const entry of entries) {
      for (const secret of [credentials.accessKeyId, credentials.secretAccessKey, credentials.sessionToken, 'alice', 'agent']) expect(entry).not.toContain(secret);
    }
  });

  it('sends exactly the scoped AssumeRole for an approved call, and moto accepts it', async () => {
    const sts = upstream(live, dead);
    const client = await instance(sts);
    const sessionPolicy = JSON.stringify({
      Version: '2012-10-17',
      Statement: [{ Effect: 'Allow', Action: 'sts:GetCallerIdentity', Resource: '*' }],
    });
    // The edge always bounds an approved call's credentials by the approval's window (here an hour away, beyond the 900 s).
    const answer = await client.vend(request({ sessionPolicy, approvalId: 'apr-42', maxDurationSeconds: 1200, notAfterMs: Date.now() + 3_600_000 }));
    expect(sts.inputs).toEqual([
      {
        roleArn: world.roleArn,
        roleSessionName: 'airlock-alice@example.com',
        sourceIdentity: 'alice@example.com',
        // 1200 asked, but the configured 900 is the ceiling.
        durationSeconds: 900,
        policy: sessionPolicy,
        tags: [
          { key: 'airlock-subject', value: 'alice@example.com' },
          { key: 'airlock-groups', value: 'engineers' },
          { key: 'airlock-session', value: 's-1' },
          { key: 'airlock-approval', value: 'apr-42' },
        ],
      },
    ]);
    const credentials = answer.credentials!;
    handedOut.push(credentials.accessKeyId, credentials.secretAccessKey, credentials.sessionToken);
    const asRole = new STSClient(clientAs(credentials));
    await expect(asRole.send(new GetCallerIdentityCommand({}))).resolves.toMatchObject({ Account: '123456789012' });
    asRole.destroy();
    // moto enforces the role's own policy on the vended credentials: IAM is outside it.
    const iam = new IAMClient(clientAs(credentials));
    await expect(iam.send(new ListUsersCommand({}))).rejects.toMatchObject({ name: 'AccessDenied' });
    iam.destroy();
  });

  it('moto does not evaluate session policies (tripwire: when this fails, assert the refusal instead)', async () => {
    // moto 5.x builds an assumed role's permissions from the role's inline and attached policies only
    // (moto/iam/access_control.py, AssumedRoleAccessKey.collect_policies): the Policy parameter is stored, never applied.
    // So the scope-down is proven at the Sts interface (previous test), not by a refusal here.
    const sts = upstream(live, dead);
    const client = await instance(sts);
    const onlyIdentity = JSON.stringify({ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: 'sts:GetCallerIdentity', Resource: '*' }] });
    const credentials = (await client.vend(request({ sessionPolicy: onlyIdentity }))).credentials!;
    handedOut.push(credentials.accessKeyId, credentials.secretAccessKey, credentials.sessionToken);
    const s3 = new S3Client({ ...clientAs(credentials), forcePathStyle: true });
    await expect(s3.send(new ListBucketsCommand({}))).resolves.toBeDefined();
    s3.destroy();
  });

  it('an STS outage gives retryable errors, and vending recovers when STS is back', async () => {
    const sts = upstream(live, dead);
    const client = await instance(sts);
    const outage = request({ principal: { ...request().principal!, sessionId: 'outage' } });
    sts.down = true;
    const error = await client.vend(outage).catch((caught: unknown) => caught);
    expect(error).toMatchObject({ code: 'DependencyUnavailable', retryable: true });
    // Bounded retries inside vending: three attempts, then the error.
    expect(sts.inputs).toHaveLength(3);
    sts.down = false;
    const credentials = (await client.vend(outage)).credentials!;
    handedOut.push(credentials.accessKeyId, credentials.secretAccessKey, credentials.sessionToken);
    expect(credentials.accessKeyId).toMatch(/^ASIA/);
    expect(sts.inputs).toHaveLength(4);
  });

  it('logged nothing secret', () => {
    const log = Buffer.concat(logChunks).toString();
    expect(log).toContain('shared credential cache on');
    expect(log).toContain('credentials vended');
    expect(log).toContain('vending credentials failed');
    expect(handedOut.length).toBeGreaterThanOrEqual(12);
    for (const secret of [...handedOut, keySpec, keySpec.slice(3), world.vendingIdentity.secretAccessKey]) expect(log).not.toContain(secret);
  });
});
