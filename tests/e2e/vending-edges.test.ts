import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AssumeRoleWithWebIdentityCommand, STSClient } from '@aws-sdk/client-sts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CreateBucketCommand, DeleteObjectCommand, GetObjectCommand, ListObjectsV2Command, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import type { ApprovalResponse, RevokeResponse, SessionsResponse } from '@airlock/edge-proxy';
import { startDistributedAirlock, type DistributedAirlock, type ExtraEdge } from '../support/airlock.js';
import { createAwsWorld, type AwsWorld } from '../support/aws-world.js';
import { startIdp } from '../support/idp.js';
import { startNats, startRedis, type Peer } from '../support/peers.js';
import { allowPolicy, signInPolicy, writePolicyFile } from '../support/policies.js';
import { startRecordingRelay, type RecordingRelay } from '../support/relay.js';

const sessionKeys = `test-1:${randomBytes(32).toString('base64')}`;
const cacheKeys = `c1:${randomBytes(32).toString('base64')}`;
const adminGroup = 'airlock-admins';
const approverGroup = 'managers';
const bucket = 'vending-edges';
const region = 'us-east-1';

type Idp = Awaited<ReturnType<typeof startIdp>>;
type Credentials = { accessKeyId: string; secretAccessKey: string; sessionToken: string; expiration: Date };

/**
 * Credential vending as the edges use it, across two edge processes of one distributed Airlock (every service its own
 * process, NATS, Redis, moto with signature and IAM checks as AWS). Every request Airlock sends to AWS, credential
 * vending's AssumeRole included, passes a recording relay in front of moto: AssumeRole calls are counted and read
 * there, and the access key each forwarded call was signed with is seen there, which proves which credentials an
 * edge used and that it used no others. moto does not evaluate session policies (tests/e2e/vending.test.ts pins that
 * gap), so scoping is proven by the exact Policy parameter STS received, not by AWS refusing what it leaves out.
 */
describe('credential vending through two edge processes: one AssumeRole, bound to session and approval, never after revocation', () => {
  let world: AwsWorld;
  let relay: RecordingRelay;
  let agents: Idp;
  let people: Idp;
  let peers: Peer[] = [];
  let airlock: DistributedAirlock;
  let edgeB: ExtraEdge;
  let scratch: string;
  /** Every token and secret the test saw, and every credential vending handed out: none may be logged or recorded. */
  const secrets: string[] = [];

  beforeAll(async () => {
    scratch = await mkdtemp(join(tmpdir(), 'airlock-vending-edges-'));
    const [nats, redis] = await Promise.all([startNats(), startRedis()]);
    peers = [nats, redis];
    [world, agents, people] = await Promise.all([
      createAwsWorld(),
      // Tokens outlive the sessions under test, so a session lasts what its client asks (at most edge.maxSessionSeconds).
      startIdp({ audience: 'airlock', groups: ['agents'], tokenTtlSeconds: 3600 }),
      startIdp({ audience: 'airlock', groups: [adminGroup, approverGroup] }),
    ]);
    relay = await startRecordingRelay(world.moto.url);
    // Setup calls with the default credential scope (the call's service); reads scoped to exactly the call; deleting
    // an object only with a manager's approval, for a five-minute grant window.
    const policyFile = await writePolicyFile(scratch, 'vending.cedar', [
      signInPolicy,
      allowPolicy('agents-set-up', ['s3:CreateBucket', 's3:PutObject']),
      ['@id("agents-read-exactly")', '@scope("action")', 'permit (principal, action == Airlock::Action::"s3:GetObject", resource);', ''].join('\n'),
      ['@id("delete-needs-a-manager")', `@approval("${approverGroup}")`, '@grant_window("300")', 'permit (principal, action == Airlock::Action::"s3:DeleteObject", resource);', ''].join('\n'),
    ]);
    airlock = await startDistributedAirlock({
      config: {
        identity: { issuers: [agents, people].map((idp) => ({ issuer: idp.issuer, audience: 'airlock' })) },
        admin: { groups: [adminGroup] },
        upstream: { endpoint: relay.url },
        policy: { files: [policyFile] },
        edge: { allowedRegions: [region], approvalWaitSeconds: 0 },
        drivers: {
          bus: { kind: 'nats', servers: [nats.url] },
          state: { kind: 'redis', url: redis.url },
          blob: { kind: 's3', bucket: 'airlock-recordings', endpoint: world.moto.url, forcePathStyle: true },
        },
        logging: { level: 'debug' },
      },
      env: { ...world.vendingEnv, AIRLOCK_SESSION_KEYS: sessionKeys, AIRLOCK_CREDENTIALS_CACHE_KEY: cacheKeys },
    });
    edgeB = await airlock.addEdge();
    secrets.push(sessionKeys.slice('test-1:'.length), cacheKeys.slice('c1:'.length), world.vendingIdentity.secretAccessKey);

    const setup = await assume(airlock.url, 'setup');
    const s3 = client(airlock.url, setup);
    await s3.send(new CreateBucketCommand({ Bucket: bucket }));
    await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'report.csv', Body: 'quarter,revenue\nq3,42\n' }));
    s3.destroy();
    // Six processes start here; on a loaded two-core machine that alone can take minutes.
  }, 300_000);

  afterAll(async () => {
    await airlock?.stop();
    await relay?.stop();
    await Promise.all([world?.stop(), agents?.stop(), people?.stop(), ...peers.map((peer) => peer.stop())]);
    if (scratch) await rm(scratch, { recursive: true, force: true });
  });

  /** What an agent's SDK does first: AssumeRoleWithWebIdentity at the edge it talks to. */
  async function assume(edge: string, clientId: string, durationSeconds?: number): Promise<Credentials> {
    const token = await agents.issueToken({ clientId });
    secrets.push(token);
    const sts = new STSClient({ region, endpoint: edge, maxAttempts: 1 });
    const { Credentials: issued } = await sts.send(
      new AssumeRoleWithWebIdentityCommand({ RoleArn: world.roleArn, RoleSessionName: clientId, WebIdentityToken: token, ...(durationSeconds ? { DurationSeconds: durationSeconds } : {}) }),
    );
    sts.destroy();
    const credentials = { accessKeyId: issued!.AccessKeyId!, secretAccessKey: issued!.SecretAccessKey!, sessionToken: issued!.SessionToken!, expiration: issued!.Expiration! };
    secrets.push(credentials.secretAccessKey, credentials.sessionToken);
    return credentials;
  }

  const client = (edge: string, credentials: Credentials) => new S3Client({ region, endpoint: edge, forcePathStyle: true, credentials, maxAttempts: 1 });

  const readReport = async (s3: S3Client) => (await s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'report.csv' }))).Body!.transformToString();

  /** The credentials vending handed out, as STS (moto) answered each AssumeRole at the relay. */
  const vendedCredentials = () =>
    relay
      .requests()
      .filter((seen) => seen.answer.includes('<AssumeRoleResponse'))
      .map((seen) => ({
        accessKeyId: /<AccessKeyId>([^<]+)</.exec(seen.answer)?.[1] ?? '',
        secretAccessKey: /<SecretAccessKey>([^<]+)</.exec(seen.answer)?.[1] ?? '',
        sessionToken: /<SessionToken>([^<]+)</.exec(seen.answer)?.[1] ?? '',
      }));

  /** Access keys the forwarded S3 calls for the report were signed with, in order. */
  const reportKeys = () =>
    relay
      .requests()
      .filter((seen) => seen.path.startsWith(`/${bucket}/report.csv`))
      .map((seen) => /Credential=([^/]+)\//.exec(String(seen.headers.authorization))?.[1]);

  const api = async <T>(edge: string, method: 'GET' | 'POST', path: string): Promise<{ status: number; body: T }> => {
    const bearer = await people.issueToken({ clientId: 'admin' });
    secrets.push(bearer);
    const response = await fetch(`${edge}/_airlock/api/v1/${path}`, {
      method,
      headers: { authorization: `Bearer ${bearer}`, ...(method === 'POST' ? { 'content-type': 'application/json' } : {}) },
      ...(method === 'POST' ? { body: '{}' } : {}),
    });
    return { status: response.status, body: (await response.json()) as T };
  };

  let burst: Credentials;
  let burstKey: string;

  it('200 concurrent cold requests through two edge processes cause exactly one AssumeRole, counted at the upstream', async () => {
    burst = await assume(airlock.url, 'burst-agent');
    const before = relay.assumeRoles().length;
    const onA = client(airlock.url, burst);
    const onB = client(edgeB.url, burst);
    const bodies = await Promise.all(Array.from({ length: 200 }, (_, i) => readReport(i % 2 === 0 ? onA : onB)));
    onA.destroy();
    onB.destroy();
    expect(new Set(bodies)).toEqual(new Set(['quarter,revenue\nq3,42\n']));

    const assumed = relay.assumeRoles().slice(before);
    expect(assumed).toHaveLength(1);
    expect(assumed[0]!.get('RoleSessionName')).toBe('airlock-burst-agent');
    expect(assumed[0]!.get('SourceIdentity')).toBe('burst-agent');
    // All 200 forwarded calls, from both edges, were signed with the one set of vended credentials.
    const keys = reportKeys().slice(-200);
    expect(keys).toHaveLength(200);
    expect(new Set(keys).size).toBe(1);
    burstKey = keys[0]!;
    expect(vendedCredentials().map((vended) => vended.accessKeyId)).toContain(burstKey);
  });

  it('bounds the credentials by the Airlock session end: a session ending sooner than STS allows puts the end in the session policy', async () => {
    const short = await assume(edgeB.url, 'short-session', 900);
    const before = relay.assumeRoles().length;
    const s3 = client(edgeB.url, short);
    await readReport(s3);
    s3.destroy();
    const [assumed] = relay.assumeRoles().slice(before);
    // Less than 900 s are left by the time the call is made: STS's shortest lifetime, cut by the policy at the session's end.
    expect(assumed?.get('DurationSeconds')).toBe('900');
    const policy = JSON.parse(assumed?.get('Policy') ?? '{}') as { Statement: unknown[] };
    expect(policy.Statement.at(-1)).toEqual({
      Sid: 'AirlockNotAfter',
      Effect: 'Deny',
      Action: '*',
      Resource: '*',
      Condition: { DateGreaterThanEquals: { 'aws:CurrentTime': short.expiration.toISOString().replace(/\.\d{3}Z$/, 'Z') } },
    });
  });

  it('sends exactly the scoped session policy for allowed calls: the call\'s service by default, the exact call where policy says so', async () => {
    const agent = await assume(edgeB.url, 'scoped-reader');
    const before = relay.assumeRoles().length;
    const s3 = client(edgeB.url, agent);
    await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'notes.txt', Body: 'scoped' }));
    await readReport(s3);
    s3.destroy();
    const [put, read] = relay.assumeRoles().slice(before);
    expect(put?.get('Policy')).toBe('{"Version":"2012-10-17","Statement":[{"Sid":"Airlock","Effect":"Allow","Action":["s3:*"],"Resource":["*"]}]}');
    expect(read?.get('Policy')).toBe(
      `{"Version":"2012-10-17","Statement":[{"Sid":"Airlock","Effect":"Allow","Action":["s3:GetObject"],"Resource":["arn:aws:s3:::${bucket}/report.csv"]}]}`,
    );
    // The session lasts an hour: STS's 900 s fit inside it, so no time bound is added.
    expect([put?.get('DurationSeconds'), read?.get('DurationSeconds')]).toEqual(['900', '900']);
    expect(read?.get('Tags.member.3.Key')).toBe('airlock-session');
  });

  it('sends exactly the approved action on the approved resource for an approved call, ending with the grant window', async () => {
    const agent = await assume(airlock.url, 'deleting-agent');
    const s3 = client(airlock.url, agent);
    await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'doomed.csv', Body: 'old' }));
    const pending = await s3.send(new DeleteObjectCommand({ Bucket: bucket, Key: 'doomed.csv' })).then(
      () => undefined,
      (error: unknown) => error as { name: string; message: string },
    );
    const approvalId = /approval ([\w-]+) is pending/.exec(pending?.message ?? '')?.[1];
    expect(approvalId, pending?.message).toBeDefined();
    const approved = await api<ApprovalResponse>(edgeB.url, 'POST', `approvals/${approvalId}/approve`);
    expect(approved.body.approval).toMatchObject({ status: 'approved' });
    const windowEnd = approved.body.approval.grantExpiresAt!;

    const before = relay.assumeRoles().length;
    // The retry finds the grant, on either edge; the second use within the window is served from the cache.
    await s3.send(new DeleteObjectCommand({ Bucket: bucket, Key: 'doomed.csv' }));
    const onB = client(edgeB.url, agent);
    await onB.send(new DeleteObjectCommand({ Bucket: bucket, Key: 'doomed.csv' }));
    onB.destroy();
    s3.destroy();
    const assumed = relay.assumeRoles().slice(before);
    expect(assumed).toHaveLength(1);
    const notAfter = new Date(Math.floor(Date.parse(windowEnd) / 1000) * 1000).toISOString().replace(/\.000Z$/, 'Z');
    expect(assumed[0]!.get('Policy')).toBe(
      '{"Version":"2012-10-17","Statement":[' +
        `{"Sid":"Airlock","Effect":"Allow","Action":["s3:DeleteObject"],"Resource":["arn:aws:s3:::${bucket}/doomed.csv"]},` +
        `{"Sid":"AirlockNotAfter","Effect":"Deny","Action":"*","Resource":"*","Condition":{"DateGreaterThanEquals":{"aws:CurrentTime":"${notAfter}"}}}]}`,
    );
    // The grant window (300 s) is shorter than STS allows: STS's minimum, bounded by the policy above.
    expect(assumed[0]!.get('DurationSeconds')).toBe('900');
    const tags = Object.fromEntries([1, 2, 3, 4].map((n) => [assumed[0]!.get(`Tags.member.${n}.Key`), assumed[0]!.get(`Tags.member.${n}.Value`)]));
    expect(tags).toMatchObject({ 'airlock-approval': approvalId, 'airlock-subject': 'deleting-agent' });
  });

  it('a session revoked through edge A is refused by edge B, which never uses its cached credentials again', async () => {
    // Edge B serves the session from the cached credentials, and has just seen it not revoked.
    const s3B = client(edgeB.url, burst);
    await readReport(s3B);
    expect(reportKeys().at(-1)).toBe(burstKey);

    const listed = await api<SessionsResponse>(airlock.url, 'GET', 'sessions');
    const session = listed.body.sessions.find((view) => view.roleSessionName === 'burst-agent');
    expect(session).toBeDefined();
    const revoked = await api<RevokeResponse>(airlock.url, 'POST', `sessions/${session!.sessionId}/revoke`);
    expect(revoked).toEqual({ status: 200, body: { revoked: [session!.sessionId] } });

    // Bounded polling, no timing assertion: edge B learns of the revocation within its revocation cache interval.
    let refusal: unknown;
    for (let attempt = 0; attempt < 150 && !refusal; attempt++) {
      refusal = await readReport(s3B).then(
        () => undefined,
        (error: unknown) => error,
      );
      if (!refusal) await new Promise((resolve) => setTimeout(resolve, 100));
    }
    expect(refusal).toMatchObject({ name: 'ExpiredToken', $metadata: { httpStatusCode: 400 } });

    const usesBefore = reportKeys().filter((key) => key === burstKey).length;
    const assumedBefore = relay.assumeRoles().length;
    const s3A = client(airlock.url, burst);
    for (const s3 of [s3A, s3B, s3A, s3B]) await expect(readReport(s3)).rejects.toMatchObject({ name: 'ExpiredToken' });
    s3A.destroy();
    s3B.destroy();
    expect(reportKeys().filter((key) => key === burstKey)).toHaveLength(usesBefore);
    expect(relay.assumeRoles()).toHaveLength(assumedBefore);

    // The same agent signs in again: a new session, so new credentials; the revoked session's are never reused.
    const again = await assume(edgeB.url, 'burst-agent');
    const fresh = client(airlock.url, again);
    await readReport(fresh);
    fresh.destroy();
    expect(relay.assumeRoles()).toHaveLength(assumedBefore + 1);
    expect(reportKeys().at(-1)).not.toBe(burstKey);
  });

  it('an STS outage gives the client a retryable error through the edge, and the next call after it succeeds', async () => {
    const agent = await assume(edgeB.url, 'outage-agent');
    const s3 = client(edgeB.url, agent);
    relay.refuse(true);
    try {
      // Credential vending retries with backoff, then gives up: the edge answers 503, which SDKs retry.
      await expect(readReport(s3)).rejects.toMatchObject({ name: 'ServiceUnavailable', $metadata: { httpStatusCode: 503 } });
    } finally {
      relay.refuse(false);
    }
    await expect(readReport(s3)).resolves.toBe('quarter,revenue\nq3,42\n');
    s3.destroy();
  });

  it('logged and recorded no credential: vended keys, secrets and tokens appear in no process output and no session record', async () => {
    const vended = vendedCredentials();
    expect(vended.length).toBeGreaterThanOrEqual(4);
    for (const credentials of vended) secrets.push(credentials.accessKeyId, credentials.secretAccessKey, credentials.sessionToken);
    expect(secrets.every((secret) => secret.length >= 16)).toBe(true);

    // The session records the recorder wrote to S3 (moto), read directly with the vending identity, which may read them.
    const direct = new S3Client({ region, endpoint: world.moto.url, forcePathStyle: true, credentials: world.vendingIdentity });
    let records = '';
    for (let attempt = 0; attempt < 100; attempt++) {
      const { Contents } = await direct.send(new ListObjectsV2Command({ Bucket: 'airlock-recordings' }));
      const texts = await Promise.all((Contents ?? []).map(async ({ Key }) => (await direct.send(new GetObjectCommand({ Bucket: 'airlock-recordings', Key }))).Body!.transformToString()));
      records = texts.join('\n');
      // The recorder writes in batches: wait until the refused calls after the revocation are in.
      if ((records.match(/ExpiredSession/g) ?? []).length >= 5) break;
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
    direct.destroy();
    expect(records).toContain('s3:GetObject');
    expect(records).toContain('ExpiredSession');

    const output = airlock.output() + edgeB.output();
    expect(output).toContain('credentials vended');
    for (const secret of secrets) {
      expect(output).not.toContain(secret);
      expect(records).not.toContain(secret);
    }
  });
});
