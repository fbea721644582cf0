import { execFile } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { request as httpRequest } from 'node:http';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { CreateBucketCommand, GetObjectCommand, ListBucketsCommand, ListObjectsV2Command, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { AssumeRoleCommand, AssumeRoleWithWebIdentityCommand, GetSessionTokenCommand, STSClient } from '@aws-sdk/client-sts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createFileBlobStore } from '@airlock/blob';
import { startDistributedAirlock, startEmbeddedAirlock, type AirlockUnderTest } from '../support/airlock.js';
import { createAwsWorld, type AwsWorld } from '../support/aws-world.js';
import { startIdp } from '../support/idp.js';
import { startNats, startRedis, type Peer } from '../support/peers.js';
import { startTokenForge, type TokenForge } from '../support/token-forge.js';

const run = promisify(execFile);
const repoRoot = fileURLToPath(new URL('../..', import.meta.url));
const sessionKeys = `test-1:${randomBytes(32).toString('base64')}`;
/** The AWS CLI uploads this in multipart parts. */
const largeSize = 50 * 1024 * 1024;
/**
 * The SDK streams its upload as one aws-chunked PutObject, which moto decodes in time that grows with the square of the
 * size (50 MB straight to moto took 122 s on this 2-core machine); streaming at 100 MB is proven in forwarding.test.ts.
 */
const sdkLargeSize = 16 * 1024 * 1024;

type Idp = Awaited<ReturnType<typeof startIdp>>;

describe.each(['embedded', 'distributed'] as const)('the spine, %s mode', (mode) => {
  let world: AwsWorld;
  let idp: Idp;
  let forge: TokenForge;
  let airlock: AirlockUnderTest;
  let peers: Peer[] = [];
  let scratch: string;
  let largeFile: string;
  let largeSha256: string;
  let sdkLargeFile: string;
  let sdkLargeSha256: string;
  let tokenFile: string;
  /** Every secret the test saw; none may appear in logs or recordings. */
  const secretsHandedOut: string[] = [];

  beforeAll(async () => {
    scratch = await mkdtemp(join(tmpdir(), 'airlock-spine-'));
    [world, idp, forge] = await Promise.all([createAwsWorld(), startIdp({ audience: 'airlock', groups: ['engineers'] }), startTokenForge()]);
    largeFile = join(scratch, 'large.bin');
    largeSha256 = await writeRandomFile(largeFile, largeSize);
    sdkLargeFile = join(scratch, 'sdk-large.bin');
    sdkLargeSha256 = await writeRandomFile(sdkLargeFile, sdkLargeSize);
    tokenFile = join(scratch, 'token.jwt');
    await writeFile(tokenFile, await idp.issueToken());

    const config: Record<string, unknown> = {
      identity: {
        issuers: [
          { issuer: idp.issuer, audience: 'airlock' },
          { issuer: forge.issuer, audience: 'airlock' },
        ],
      },
      upstream: { endpoint: world.moto.url },
      // Deletes are part of the spine's round trip; the default pack would hold them for an approver.
      policy: { files: [join(repoRoot, 'tests/support/allow-every-call.cedar')] },
      edge: { allowedRegions: ['us-east-1'] },
      logging: { level: 'info' },
    };
    if (mode === 'distributed') {
      const [nats, redis] = await Promise.all([startNats(), startRedis()]);
      peers = [nats, redis];
      config.drivers = {
        bus: { kind: 'nats', servers: [nats.url] },
        state: { kind: 'redis', url: redis.url },
        blob: { kind: 's3', bucket: 'airlock-recordings', endpoint: world.moto.url, forcePathStyle: true },
      };
    }
    const launch = { config, env: { ...world.vendingEnv, AIRLOCK_SESSION_KEYS: sessionKeys } };
    airlock = mode === 'embedded' ? await startEmbeddedAirlock(launch) : await startDistributedAirlock(launch);
  });

  afterAll(async () => {
    await airlock?.stop();
    await Promise.all([world?.stop(), idp?.stop(), forge?.stop(), ...peers.map((peer) => peer.stop())]);
    await rm(scratch, { recursive: true, force: true });
  });

  /** The environment an agent gets: an endpoint, a token file and a role. Nothing else. */
  const agentEnv = () => ({
    PATH: process.env.PATH ?? '',
    HOME: scratch,
    AWS_ENDPOINT_URL: airlock.url,
    AWS_WEB_IDENTITY_TOKEN_FILE: tokenFile,
    AWS_ROLE_ARN: world.roleArn,
    AWS_ROLE_SESSION_NAME: 'spine-test',
    AWS_REGION: 'us-east-1',
    AWS_DEFAULT_REGION: 'us-east-1',
    AWS_CONFIG_FILE: join(scratch, 'no-config'),
    AWS_SHARED_CREDENTIALS_FILE: join(scratch, 'no-credentials'),
  });

  it('carries a stock AWS SDK v3 through a whole S3 journey, 16 MB streamed both ways', async () => {
    const { stdout } = await run(process.execPath, [join(repoRoot, 'tests/clients/sdk-s3-journey.mjs'), `sdk-${mode}`, sdkLargeFile], {
      env: agentEnv(),
      maxBuffer: 1024 * 1024,
    });
    const seen = JSON.parse(stdout.trim().split('\n').pop() ?? '{}');
    expect(seen).toEqual({
      callerArn: expect.stringMatching(/^arn:aws:sts::123456789012:assumed-role\/agent\//),
      keys: ['blobs/large.bin', 'notes/hello.txt'],
      smallText: 'hello through airlock',
      largeBytes: sdkLargeSize,
      largeSha256: sdkLargeSha256,
    });
  });

  it('carries the AWS CLI through the same journey', async () => {
    const bucket = `s3://cli-${mode}`;
    const aws = (...args: string[]) => run('aws', args, { env: agentEnv(), maxBuffer: 64 * 1024 * 1024, encoding: 'buffer' });
    await aws('s3', 'mb', bucket);
    await writeFile(join(scratch, 'hello.txt'), 'hello from the cli');
    await aws('s3', 'cp', join(scratch, 'hello.txt'), `${bucket}/notes/hello.txt`);
    await aws('s3', 'cp', largeFile, `${bucket}/blobs/large.bin`);
    const listing = (await aws('s3', 'ls', '--recursive', bucket)).stdout.toString();
    expect(listing).toContain('notes/hello.txt');
    expect(listing).toContain(`${largeSize} blobs/large.bin`);
    expect((await aws('s3', 'cp', `${bucket}/notes/hello.txt`, '-')).stdout.toString()).toBe('hello from the cli');
    await aws('s3', 'cp', `${bucket}/blobs/large.bin`, join(scratch, 'large.copy'));
    expect(await sha256File(join(scratch, 'large.copy'))).toBe(largeSha256);
    await aws('s3', 'rm', '--recursive', bucket);
    await aws('s3', 'rb', bucket);
  });

  describe('refusals, each with the AWS error a client understands and nothing forwarded', () => {
    const issue = async (token: string) =>
      new STSClient({ region: 'us-east-1', endpoint: airlock.url }).send(
        new AssumeRoleWithWebIdentityCommand({ RoleArn: world.roleArn, RoleSessionName: 'refusals', WebIdentityToken: token }),
      );
    const sessionCredentials = async () => {
      const token = await idp.issueToken();
      const { Credentials } = await issue(token);
      secretsHandedOut.push(token, Credentials!.SecretAccessKey!, Credentials!.SessionToken!);
      return { accessKeyId: Credentials!.AccessKeyId!, secretAccessKey: Credentials!.SecretAccessKey!, sessionToken: Credentials!.SessionToken! };
    };
    const s3Through = (credentials: Credentials, region = 'us-east-1') =>
      new S3Client({ region, endpoint: airlock.url, forcePathStyle: true, credentials, maxAttempts: 1 });
    const now = () => Math.floor(Date.now() / 1000);

    it('refuses an expired token, a token for another audience and one from an unknown issuer', async () => {
      await expect(issue(await forge.sign({ sub: 'agent', aud: 'airlock', exp: now() - 600, iat: now() - 1200 }))).rejects.toMatchObject({ name: 'ExpiredTokenException' });
      await expect(issue(await forge.sign({ sub: 'agent', aud: 'someone-else', exp: now() + 600 }))).rejects.toMatchObject({ name: 'InvalidIdentityTokenException' });
      await expect(issue(await forge.sign({ sub: 'agent', aud: 'airlock', exp: now() + 600, iss: 'https://unknown.example.com' }))).rejects.toMatchObject({
        name: 'InvalidIdentityTokenException',
      });
    });

    it('refuses a wrong signature and an unknown access key, forwarding nothing', async () => {
      const good = await sessionCredentials();
      await expect(s3Through({ ...good, secretAccessKey: `${good.secretAccessKey.slice(0, -2)}xx` }).send(new CreateBucketCommand({ Bucket: 'never-wrong-signature' }))).rejects.toMatchObject({
        name: 'SignatureDoesNotMatch',
        $metadata: { httpStatusCode: 403 },
      });
      await expect(
        s3Through({ accessKeyId: 'ALSAAAAAAAAAAAAAAAAA', secretAccessKey: 'x'.repeat(40), sessionToken: good.sessionToken }).send(new CreateBucketCommand({ Bucket: 'never-unknown-key' })),
      ).rejects.toMatchObject({ name: 'InvalidClientTokenId', $metadata: { httpStatusCode: 403 } });
      expect(await bucketsAtMoto()).not.toEqual(expect.arrayContaining(['never-wrong-signature']));
      expect(await bucketsAtMoto()).not.toContain('never-unknown-key');
    });

    it('refuses a region outside the allowlist and a Host that names another endpoint', async () => {
      const good = await sessionCredentials();
      await expect(s3Through(good, 'eu-west-1').send(new CreateBucketCommand({ Bucket: 'never-foreign-region' }))).rejects.toMatchObject({ name: 'InvalidEndpoint' });
      const spoofed = await rawRequest(`${airlock.url}/never-foreign-host`, { method: 'PUT', headers: { host: 's3.amazonaws.com' } });
      expect(spoofed.status).toBe(400);
      expect(spoofed.body).toContain('<Code>InvalidEndpoint</Code>');
      expect(await bucketsAtMoto()).not.toContain('never-foreign-region');
    });

    it('answers credential-minting calls with a refusal instead of forwarding them', async () => {
      const sts = new STSClient({ region: 'us-east-1', endpoint: airlock.url, credentials: await sessionCredentials(), maxAttempts: 1 });
      await expect(sts.send(new AssumeRoleCommand({ RoleArn: world.roleArn, RoleSessionName: 'escape' }))).rejects.toMatchObject({
        name: 'AccessDenied',
        message: expect.stringContaining('never hands AWS credentials to clients'),
      });
      await expect(sts.send(new GetSessionTokenCommand({}))).rejects.toMatchObject({ name: 'AccessDenied' });
    });

    it('hands out credentials that AWS itself refuses', async () => {
      const good = await sessionCredentials();
      const direct = new S3Client({ region: 'us-east-1', endpoint: world.moto.url, forcePathStyle: true, credentials: good, maxAttempts: 1 });
      await expect(direct.send(new ListBucketsCommand({}))).rejects.toMatchObject({ $metadata: { httpStatusCode: 403 } });
    });
  });

  it('masks secrets in what AWS answers before the agent sees them', async () => {
    const { Credentials } = await new STSClient({ region: 'us-east-1', endpoint: airlock.url }).send(
      new AssumeRoleWithWebIdentityCommand({ RoleArn: world.roleArn, RoleSessionName: 'masking', WebIdentityToken: await idp.issueToken() }),
    );
    const s3 = new S3Client({
      region: 'us-east-1',
      endpoint: airlock.url,
      forcePathStyle: true,
      credentials: { accessKeyId: Credentials!.AccessKeyId!, secretAccessKey: Credentials!.SecretAccessKey!, sessionToken: Credentials!.SessionToken! },
    });
    const bucket = `masking-${mode}`;
    const leakedKey = 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY';
    await s3.send(new CreateBucketCommand({ Bucket: bucket }));
    await s3.send(
      new PutObjectCommand({
        Bucket: bucket,
        Key: 'config.json',
        ContentType: 'application/json',
        Body: JSON.stringify({ AccessKeyId: 'AKIAIOSFODNN7EXAMPLE', SecretAccessKey: leakedKey, region: 'us-east-1' }),
      }),
    );
    const answer = await (await s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'config.json' }))).Body!.transformToString();
    expect(answer).not.toContain(leakedKey);
    expect(answer).not.toContain('AKIAIOSFODNN7EXAMPLE');
    expect(answer).toContain('[MASKED:');
    expect(answer).toContain('"region":"us-east-1"');
  });

  it('records every call as an event in the blob store (operation, decision, upstream status, timing) and keeps secrets out of it and the logs', async () => {
    const events = await waitForRecordedCalls(5, mode === 'embedded' ? readEmbeddedRecordings : readS3Recordings);
    const put = events.find((event) => event.call?.call?.operation === 'PutObject' && event.call.call.resources?.[0]?.endsWith('blobs/large.bin'));
    expect(put?.call).toMatchObject({ decision: 'DECISION_ALLOW', upstreamStatus: 200 });
    // aws-chunked framing and the trailing checksum come on top of the object's own bytes.
    expect(put?.call?.bytesIn).toBeGreaterThanOrEqual(sdkLargeSize);
    expect(put?.call?.durationMs).toBeGreaterThanOrEqual(0);
    const refused = events.find((event) => event.call?.errorCode === 'SignatureDoesNotMatch');
    expect(refused).toBeDefined();
    const recorded = JSON.stringify(events);
    const logs = airlock.output();
    expect(secretsHandedOut.length).toBeGreaterThan(0);
    for (const secret of [...secretsHandedOut, sessionKeys.split(':')[1]!, world.vendingIdentity.secretAccessKey, await readFile(tokenFile, 'utf8')]) {
      expect(recorded).not.toContain(secret);
      expect(logs).not.toContain(secret);
    }
  });

  interface RecordedEvent {
    sessionId: string;
    call?: { call?: { operation?: string; resources?: string[] }; decision?: string; upstreamStatus?: number; durationMs?: number; bytesIn?: number; errorCode?: string };
  }

  async function readEmbeddedRecordings(): Promise<RecordedEvent[]> {
    const recordings = await createFileBlobStore({ dir: join(airlock.dataDir, 'recordings') });
    const texts: string[] = [];
    for await (const { key } of recordings.list('sessions/')) texts.push(Buffer.from((await recordings.get(key)) ?? []).toString('utf8'));
    await recordings.close();
    return parseNdjson<RecordedEvent>(texts);
  }

  async function readS3Recordings(): Promise<RecordedEvent[]> {
    const s3 = new S3Client({ region: 'us-east-1', endpoint: world.moto.url, forcePathStyle: true, credentials: world.vendingIdentity });
    // Paginated: with a digest beside every recording object the bucket soon holds more than one page of keys.
    const keys: string[] = [];
    let token: string | undefined;
    do {
      const listed = await s3
        .send(new ListObjectsV2Command({ Bucket: 'airlock-recordings', ContinuationToken: token }))
        .catch(() => ({ Contents: [], NextContinuationToken: undefined }));
      for (const object of listed.Contents ?? []) if (object.Key?.endsWith('.ndjson')) keys.push(object.Key);
      token = listed.NextContinuationToken;
    } while (token);
    const texts = await Promise.all(
      keys.map(async (key) => (await s3.send(new GetObjectCommand({ Bucket: 'airlock-recordings', Key: key }))).Body!.transformToString()),
    );
    return parseNdjson<RecordedEvent>(texts);
  }

  async function waitForRecordedCalls(minimum: number, read: () => Promise<RecordedEvent[]>): Promise<RecordedEvent[]> {
    for (let attempt = 0; attempt < 100; attempt++) {
      const events = await read();
      if (events.filter((event) => event.call).length >= minimum && events.some((event) => event.call?.errorCode === 'SignatureDoesNotMatch')) return events;
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
    return read();
  }

  async function bucketsAtMoto(): Promise<string[]> {
    const s3 = new S3Client({ region: 'us-east-1', endpoint: world.moto.url, forcePathStyle: true, credentials: world.vendingIdentity });
    const { Buckets } = await s3.send(new ListBucketsCommand({})).catch(() => ({ Buckets: [] }));
    return (Buckets ?? []).map((bucket) => bucket.Name ?? '');
  }
});

/** fetch() may not set Host; node:http may, as any client on the network can. */
function rawRequest(url: string, options: { method: string; headers: Record<string, string> }): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const outgoing = httpRequest(url, options, (response) => {
      let body = '';
      response.setEncoding('utf8');
      response.on('data', (chunk: string) => (body += chunk));
      response.on('end', () => resolve({ status: response.statusCode ?? 0, body }));
    });
    outgoing.on('error', reject);
    outgoing.end();
  });
}

interface Credentials {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken?: string;
}

function parseNdjson<T>(texts: string[]): T[] {
  return texts.flatMap((text) => text.split('\n').filter(Boolean).map((line) => JSON.parse(line) as T));
}

async function writeRandomFile(path: string, size: number): Promise<string> {
  const hash = createHash('sha256');
  const out = createWriteStream(path);
  for (let written = 0; written < size; written += 1024 * 1024) {
    const chunk = randomBytes(Math.min(1024 * 1024, size - written));
    hash.update(chunk);
    if (!out.write(chunk)) await new Promise((resolve) => out.once('drain', () => resolve(undefined)));
  }
  await new Promise<void>((resolve, reject) => out.end((error?: Error | null) => (error ? reject(error) : resolve())));
  return hash.digest('hex');
}

async function sha256File(path: string): Promise<string> {
  return createHash('sha256').update(await readFile(path)).digest('hex');
}
