import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { CreateBucketCommand, DeleteBucketCommand, ListBucketsCommand, ListObjectsV2Command, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { AssumeRoleCommand, AssumeRoleWithWebIdentityCommand, STSClient } from '@aws-sdk/client-sts';
import { isServerError, isThrottlingError, isTransientError } from '@smithy/core/retry';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ApprovalsResponse } from '@airlock/edge-proxy';
import { startDistributedAirlock, type DistributedAirlock, type ExtraEdge } from '../support/airlock.js';
import { createAwsWorld, type AwsWorld } from '../support/aws-world.js';
import { startIdp, type TestIdp } from '../support/idp.js';
import { freePort, startHaproxy, startNats, startRedis, type Peer } from '../support/peers.js';
import { allowPolicy, signInPolicy, writePolicyFile } from '../support/policies.js';
import { readRecordedEvents, type RecordedEvent } from '../support/recordings.js';

const bucket = 'load-balanced';
/** Short, so the held-call case is quick; the grace of a drain (lifecycle.drainSeconds) is what ends a held call here. */
const drainSeconds = 4;

type Credentials = { accessKeyId: string; secretAccessKey: string; sessionToken: string };
/** What the recorder writes besides the fields the shared type names. */
type Recorded = RecordedEvent & {
  eventId?: string;
  edgeId?: string;
  requested?: { requestId?: string; call?: { resources?: string[] } };
  call?: RecordedEvent['call'] & { requestId?: string };
};
interface Outcome {
  key: string;
  ok: boolean;
  attempts?: number;
  error?: { name: string; status?: number; retryable: boolean };
}

/**
 * Issue 11's acceptance: three edge processes behind haproxy, the other services distributed (gRPC, NATS JetStream,
 * Redis), moto as AWS with signature checks. Stock AWS SDK v3 clients (retries as shipped) put objects at a steady
 * rate while one edge is killed (SIGKILL) and restarted, and another is drained (SIGTERM) and restarted. Recording is
 * strict, so a call is forwarded only once its request event is on the bus.
 */
describe('three edges behind a load balancer: an edge killed or drained under load', () => {
  let world: AwsWorld;
  let agents: TestIdp;
  let people: TestIdp;
  let nats: Peer;
  let redis: Peer;
  let balancer: Peer;
  let airlock: DistributedAirlock;
  let edges: ExtraEdge[];
  let scratch: string;
  let agent: Credentials;
  let lbHost: string;

  beforeAll(async () => {
    scratch = await mkdtemp(join(tmpdir(), 'airlock-lb-'));
    [world, agents, people, nats, redis] = await Promise.all([
      createAwsWorld(),
      startIdp({ audience: 'airlock', groups: ['agents'] }),
      startIdp({ audience: 'airlock', groups: ['managers'] }),
      startNats(),
      startRedis(),
    ]);
    const lbPort = await freePort();
    lbHost = `127.0.0.1:${lbPort}`;
    const policyFile = await writePolicyFile(scratch, 'load-balanced.cedar', [
      signInPolicy,
      allowPolicy('objects', ['s3:CreateBucket', 's3:PutObject', 's3:ListBucket']),
      ['@id("delete-bucket-needs-a-manager")', '@approval("managers")', 'permit (principal, action == Airlock::Action::"s3:DeleteBucket", resource);', ''].join('\n'),
    ]);
    airlock = await startDistributedAirlock({
      config: {
        identity: { issuers: [agents, people].map((idp) => ({ issuer: idp.issuer, audience: 'airlock' })) },
        upstream: { endpoint: world.moto.url },
        policy: { files: [policyFile] },
        // Clients name the load balancer; a bare 127.0.0.1 also lets a test call one edge on its own port.
        edge: { hosts: [lbHost, '127.0.0.1'], allowedRegions: ['us-east-1'], recording: 'strict', approvalWaitSeconds: 20 },
        lifecycle: { drainSeconds },
        drivers: { bus: { kind: 'nats', servers: [nats.url] }, state: { kind: 'redis', url: redis.url } },
        logging: { level: 'info' },
      },
      env: { ...world.vendingEnv, AIRLOCK_SESSION_KEYS: `lb-1:${randomBytes(32).toString('base64')}` },
    });
    edges = await Promise.all([airlock.addEdge(), airlock.addEdge()]);
    balancer = await startHaproxy({ port: lbPort, backends: [airlock.url, ...edges.map((edge) => edge.url)].map((url) => new URL(url).host) });
    await waitUntilServing(3);
    agent = await assume(agents, 'agent-lb');
    await s3(agent).send(new CreateBucketCommand({ Bucket: bucket }));
    // Eight Airlock processes start here: minutes, when the machine is busy with other suites.
  }, 300_000);

  afterAll(async () => {
    await balancer?.stop();
    await airlock?.stop();
    await Promise.all([world?.stop(), agents?.stop(), people?.stop(), nats?.stop(), redis?.stop()]);
    if (scratch) await rm(scratch, { recursive: true, force: true });
  });

  async function assume(idp: TestIdp, clientId: string): Promise<Credentials> {
    const sts = new STSClient({ region: 'us-east-1', endpoint: balancer.url });
    const { Credentials: issued } = await sts.send(
      new AssumeRoleWithWebIdentityCommand({ RoleArn: world.roleArn, RoleSessionName: clientId, WebIdentityToken: await idp.issueToken({ clientId }) }),
    );
    sts.destroy();
    return { accessKeyId: issued!.AccessKeyId!, secretAccessKey: issued!.SecretAccessKey!, sessionToken: issued!.SessionToken! };
  }

  /** A stock client through the load balancer: default retry strategy (standard, 3 attempts). */
  const s3 = (credentials: Credentials, endpoint = balancer.url) => new S3Client({ region: 'us-east-1', endpoint, forcePathStyle: true, credentials });

  /** Waits until haproxy has `count` servers taking calls: each answers one readiness probe through it in turn. */
  async function waitUntilServing(count: number): Promise<void> {
    for (let attempt = 0; attempt < 100; attempt++) {
      const answers = await Promise.all(
        Array.from({ length: count * 2 }, () => fetch(`${balancer.url}/_airlock/ready`).then((response) => response.status, () => 0)),
      );
      if (answers.every((status) => status === 200)) return;
      await sleep(200);
    }
    throw new Error('haproxy did not take the edges in');
  }

  /** `workers` clients, each putting a new object every `pauseMs` until `stop` resolves. */
  async function steadyLoad(client: S3Client, workers: number, pauseMs: number, stop: Promise<void>): Promise<Outcome[]> {
    let stopped = false;
    void stop.then(() => (stopped = true));
    const outcomes: Outcome[] = [];
    let next = 0;
    await Promise.all(
      Array.from({ length: workers }, async () => {
        while (!stopped) {
          const key = `object-${String(next++).padStart(5, '0')}`;
          try {
            const answer = await client.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: key }));
            outcomes.push({ key, ok: true, attempts: answer.$metadata.attempts ?? 1 });
          } catch (thrown) {
            const error = thrown as Error & { $metadata?: { httpStatusCode?: number } };
            // Retryable as the SDK itself classifies errors: transient (network, 502/503/504), server or throttling.
            const retryable = isTransientError(error as never) || isServerError(error as never) || isThrottlingError(error as never);
            outcomes.push({ key, ok: false, error: { name: error.name, retryable, ...(error.$metadata?.httpStatusCode ? { status: error.$metadata.httpStatusCode } : {}) } });
          }
          await sleep(pauseMs);
        }
      }),
    );
    return outcomes;
  }

  /** Lists the bucket at moto itself, as the agents' role (assumed there directly, not through Airlock). */
  async function objectsAtMoto(): Promise<Set<string>> {
    const sts = new STSClient({ region: 'us-east-1', endpoint: world.moto.url, credentials: world.vendingIdentity });
    const { Credentials: role } = await sts.send(new AssumeRoleCommand({ RoleArn: world.roleArn, RoleSessionName: 'count-at-moto' }));
    sts.destroy();
    const direct = new S3Client({
      region: 'us-east-1',
      endpoint: world.moto.url,
      forcePathStyle: true,
      credentials: { accessKeyId: role!.AccessKeyId!, secretAccessKey: role!.SecretAccessKey!, sessionToken: role!.SessionToken! },
    });
    const keys = new Set<string>();
    let token: string | undefined;
    do {
      const page = await direct.send(new ListObjectsV2Command({ Bucket: bucket, ContinuationToken: token }));
      for (const object of page.Contents ?? []) keys.add(object.Key!);
      token = page.NextContinuationToken;
    } while (token);
    direct.destroy();
    return keys;
  }

  const keyOf = (resources: string[] | undefined) => resources?.find((arn) => arn.startsWith(`arn:aws:s3:::${bucket}/`))?.slice(`arn:aws:s3:::${bucket}/`.length);

  it('loses no accepted call, records none twice, and clients see only retryable errors', async () => {
    const client = s3(agent);
    let endLoad!: () => void;
    const loadRunning = steadyLoad(client, 3, 40, new Promise<void>((resolve) => (endLoad = resolve)));
    const [killed, drained] = edges as [ExtraEdge, ExtraEdge];
    const killedPid = killed.pid();

    await sleep(3_000);
    expect((await killed.kill('SIGKILL')).signal).toBe('SIGKILL');
    await sleep(2_000);
    await killed.start();
    await sleep(2_000);
    // A drain that ends on its own: exit code 0, in-flight calls answered first.
    expect(await drained.kill('SIGTERM'), drained.output().slice(-4000)).toEqual({ code: 0, signal: null });
    await drained.start();
    await sleep(3_000);
    endLoad();
    const outcomes = await loadRunning;
    client.destroy();

    const succeeded = outcomes.filter((outcome) => outcome.ok);
    const failed = outcomes.filter((outcome) => !outcome.ok);
    console.log(
      `load-balanced: ${outcomes.length} calls, ${succeeded.length} succeeded (${succeeded.filter((outcome) => (outcome.attempts ?? 1) > 1).length} after SDK retries), ${failed.length} failed: ${JSON.stringify(failed.map((outcome) => outcome.error))}`,
    );
    expect(succeeded.length).toBeGreaterThan(100);
    // Clients see only retryable errors; with the SDK's retries as shipped, nearly never even those.
    expect(failed.filter((outcome) => !outcome.error?.retryable)).toEqual([]);
    expect(failed.length).toBeLessThanOrEqual(3);

    // At moto: every call a client saw succeed is there; nothing is there that no client sent.
    const stored = await objectsAtMoto();
    for (const { key } of succeeded) expect(stored.has(key), `${key} at moto`).toBe(true);
    const sent = new Set(outcomes.map((outcome) => outcome.key));
    for (const key of stored) expect(sent.has(key), `${key} was sent`).toBe(true);

    // In the recordings (the recorder writes them in batches; wait until every succeeded call is there).
    const putsRecorded = (events: Recorded[]) =>
      new Set(events.filter((event) => event.call?.call?.operation === 'PutObject' && event.call.upstreamStatus === 200).map((event) => keyOf(event.call?.call?.resources)));
    let events: Recorded[] = [];
    for (let attempt = 0; attempt < 100; attempt++) {
      // Objects under sessions/ also hold digests and chain heads: events are the lines with an event id.
      events = ((await readRecordedEvents(airlock.dataDir)) as Recorded[]).filter((event) => event.eventId);
      const recorded = putsRecorded(events);
      if (succeeded.filter(({ key }) => !recorded.has(key)).length <= 2) break;
      await sleep(200);
    }
    // Never recorded twice: each event once, each call's request and outcome once each.
    const eventIds = events.map((event) => event.eventId);
    expect(new Set(eventIds).size).toBe(eventIds.length);
    const requestIds = (kind: 'requested' | 'call') => events.map((event) => event[kind]?.requestId).filter((id) => id !== undefined);
    expect(new Set(requestIds('requested')).size).toBe(requestIds('requested').length);
    expect(new Set(requestIds('call')).size).toBe(requestIds('call').length);
    // Strict recording: every call that reached moto has its request event (durable before it was forwarded).
    const requested = new Map<string, Recorded[]>();
    for (const event of events) {
      const key = keyOf(event.requested?.call?.resources);
      if (key) requested.set(key, [...(requested.get(key) ?? []), event]);
    }
    for (const key of stored) expect(requested.has(key), `request event of ${key}`).toBe(true);
    // Every call a client saw succeed has its outcome recorded, save those the killed edge was answering at the instant
    // it died (its request event is there, written by that edge, which died before it could publish the outcome).
    const outcomesRecorded = putsRecorded(events);
    const killedEdgeIds = new Set(events.filter((event) => event.edgeId?.endsWith(`-${killedPid}`)).map((event) => event.edgeId));
    const unrecorded = succeeded.filter(({ key }) => !outcomesRecorded.has(key));
    for (const { key } of unrecorded) {
      expect(requested.get(key)?.some((event) => killedEdgeIds.has(event.edgeId)), `${key}: outcome missing, and not cut off by the kill`).toBe(true);
    }
    console.log(`load-balanced: ${events.length} events recorded; outcome events lost to the SIGKILL: ${unrecorded.length}`);
    expect(unrecorded.length).toBeLessThanOrEqual(2);
  }, 120_000);

  it('a draining edge finishes a held call approved during the grace, and answers one still pending with a retryable error', async () => {
    const [, drained] = edges as [ExtraEdge, ExtraEdge];
    for (const name of ['held-approved', 'held-pending']) await s3(agent).send(new CreateBucketCommand({ Bucket: name }));
    // Both calls go to the one edge that is about to drain: signed for the load balancer's name, sent to its port.
    const direct = new S3Client({ region: 'us-east-1', endpoint: drained.url, forcePathStyle: true, credentials: agent, maxAttempts: 1 });
    direct.middlewareStack.add(
      (next) => (args) => {
        (args.request as { headers: Record<string, string> }).headers.host = lbHost;
        return next(args);
      },
      { step: 'build', name: 'hostOfTheLoadBalancer' },
    );
    const approvedCall = direct.send(new DeleteBucketCommand({ Bucket: 'held-approved' })).then(
      () => 'deleted',
      (error: Error) => error,
    );
    const pendingCall = direct.send(new DeleteBucketCommand({ Bucket: 'held-pending' })).then(
      () => 'deleted',
      (error: Error & { $metadata?: { httpStatusCode?: number }; $retryable?: unknown }) => error,
    );
    const manager = await people.issueToken({ clientId: 'maria' });
    const approvalFor = async (name: string): Promise<string> => {
      for (let attempt = 0; attempt < 100; attempt++) {
        const response = await fetch(`${balancer.url}/_airlock/api/v1/approvals?status=pending`, { headers: { authorization: `Bearer ${manager}` } });
        const { approvals } = (await response.json()) as ApprovalsResponse;
        const found = approvals.find((approval) => approval.resources.includes(`arn:aws:s3:::${name}`));
        if (found) return found.id;
        await sleep(100);
      }
      throw new Error(`no pending approval for ${name}; the held calls ended as ${String(await Promise.race([approvedCall, sleep(0, 'still held')]))}, ${String(await Promise.race([pendingCall, sleep(0, 'still held')]))}`);
    };
    const approvedId = await approvalFor('held-approved');
    await approvalFor('held-pending');

    const drainedExit = drained.kill('SIGTERM');
    await sleep(1_000);
    // Approved through another edge (the load balancer has taken the draining one out), during the grace.
    const vote = await fetch(`${balancer.url}/_airlock/api/v1/approvals/${approvedId}/approve`, {
      method: 'POST',
      headers: { authorization: `Bearer ${manager}`, 'content-type': 'application/json' },
      body: '{}',
    });
    expect(vote.status).toBe(200);
    expect(await approvedCall).toBe('deleted');
    const pending = await pendingCall;
    expect(pending).toBeInstanceOf(Error);
    const error = pending as Error & { $metadata?: { httpStatusCode?: number }; message: string };
    expect(error.name).toBe('ServiceUnavailable');
    expect(error.$metadata?.httpStatusCode).toBe(503);
    expect(isServerError(error as never) || isTransientError(error as never)).toBe(true);
    expect(error.message).toMatch(/shutting down.*still pending.*Retry the same call/);
    expect(await drainedExit).toEqual({ code: 0, signal: null });
    direct.destroy();

    const direct2 = new S3Client({ region: 'us-east-1', endpoint: world.moto.url, forcePathStyle: true, credentials: world.vendingIdentity });
    const buckets = ((await direct2.send(new ListBucketsCommand({}))).Buckets ?? []).map((entry) => entry.Name);
    direct2.destroy();
    expect(buckets).not.toContain('held-approved');
    expect(buckets).toContain('held-pending');
    await drained.start();
  }, 90_000);
});
