import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { EC2Client, TerminateInstancesCommand } from '@aws-sdk/client-ec2';
import { CreateBucketCommand, DeleteBucketCommand, ListBucketsCommand, S3Client } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createNatsBus } from '@airlock/bus';
import { ApprovalEvent, approvalEventsStream } from '@airlock/contracts';
import type { AdminErrorResponse, ApprovalResponse, ApprovalsResponse, ApprovalView } from '@airlock/edge-proxy';
import { assumeThroughAirlock, s3ThroughAirlock, type SessionCredentials } from '../support/agent-credentials.js';
import { startDistributedAirlock, type DistributedAirlock, type ExtraEdge } from '../support/airlock.js';
import { createAwsWorld, type AwsWorld } from '../support/aws-world.js';
import { instanceStates, launchInstances } from '../support/ec2-instances.js';
import { startIdp, type TestIdp } from '../support/idp.js';
import { startNats, startRedis, type NatsPeer, type Peer } from '../support/peers.js';
import { allowPolicy, signInPolicy, writePolicyFile } from '../support/policies.js';
import { waitForRecordedEvents } from '../support/recordings.js';

const repoRoot = fileURLToPath(new URL('../..', import.meta.url));
/** Long: in this file every held call is released by a vote, never by the end of the wait. */
const approvalWaitSeconds = 45;
const senior = { clientId: 'sam', groups: ['senior-engineers'] };

/**
 * Held calls in distributed mode: every service its own process (`airlock serve …`) talking gRPC, with nats-server
 * (JetStream), redis-server and moto. A vote through the admin API is acknowledged by the approval service, which
 * publishes `approval.decided` on JetStream; the edge holding the call hears it on its one subscription for all held
 * calls and releases the call to moto. A quorum of two is reached by managers voting at the same instant on two edges.
 */
describe('approvals in distributed mode: held calls released over NATS, simultaneous votes counted once', () => {
  let scratch: string;
  let nats: NatsPeer;
  let redis: Peer;
  let world: AwsWorld;
  let idp: TestIdp;
  let airlock: DistributedAirlock;
  let secondEdge: ExtraEdge;
  let atMoto: { ec2: EC2Client; s3: S3Client };
  let agent: SessionCredentials;

  beforeAll(async () => {
    scratch = await mkdtemp(join(tmpdir(), 'airlock-approvals-distributed-'));
    [nats, redis, world, idp] = await Promise.all([
      startNats({ monitoring: true }),
      startRedis(),
      createAwsWorld({ rolePolicy: { Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: ['ec2:*', 's3:*'], Resource: '*' }] } }),
      startIdp({ audience: 'airlock' }),
    ]);
    const policies = await writePolicyFile(scratch, 'distributed.cedar', [
      signInPolicy,
      allowPolicy('create-buckets', ['s3:CreateBucket']),
      [
        '@id("delete-bucket-needs-two-managers")',
        '@approval("managers")',
        '@quorum("2")',
        'permit (principal, action == Airlock::Action::"s3:DeleteBucket", resource);',
        '',
      ].join('\n'),
    ]);
    airlock = await startDistributedAirlock({
      config: {
        identity: { issuers: [{ issuer: idp.issuer, audience: 'airlock' }] },
        upstream: { endpoint: world.moto.url },
        policy: { files: [policies, join(repoRoot, 'policies/examples/ec2-terminate.cedar')] },
        edge: { allowedRegions: ['us-east-1'], approvalWaitSeconds },
        drivers: { bus: { kind: 'nats', servers: [nats.url] }, state: { kind: 'redis', url: redis.url } },
        logging: { level: 'info' },
      },
      env: { ...world.vendingEnv, AIRLOCK_SESSION_KEYS: `distributed:${randomBytes(32).toString('base64')}` },
    });
    secondEdge = await airlock.addEdge();
    agent = await assumeThroughAirlock(airlock.url, world.roleArn, await idp.issueToken({ clientId: senior.clientId, groups: senior.groups }), senior.clientId);
    const observer = await world.roleCredentialsAtMoto('distributed-test-observer');
    atMoto = {
      ec2: new EC2Client({ region: 'us-east-1', endpoint: world.moto.url, credentials: observer }),
      s3: new S3Client({ region: 'us-east-1', endpoint: world.moto.url, forcePathStyle: true, credentials: observer }),
    };
  });

  afterAll(async () => {
    atMoto?.ec2.destroy();
    atMoto?.s3.destroy();
    await airlock?.stop();
    await Promise.all([nats?.stop(), redis?.stop(), world?.stop(), idp?.stop()]);
    if (scratch) await rm(scratch, { recursive: true, force: true });
  });

  const manager = (clientId: string) => idp.issueToken({ clientId, groups: ['managers'] });
  const api = async <T>(edgeUrl: string, bearer: string, method: 'GET' | 'POST', path: string, body?: unknown) => {
    const response = await fetch(`${edgeUrl}/_airlock/api/v1/${path}`, {
      method,
      headers: { authorization: `Bearer ${bearer}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    return { status: response.status, body: (await response.json()) as T };
  };
  /** Waits (bounded) until a pending approval names each resource; returns them in the same order. */
  const pendingFor = async (resources: string[]): Promise<ApprovalView[]> => {
    for (let attempt = 0; attempt < 200; attempt++) {
      const listed = await api<ApprovalsResponse>(airlock.url, await manager('maria'), 'GET', 'approvals?status=pending');
      const found = resources.map((resource) => listed.body.approvals.find((approval) => approval.resources.some((named) => named.endsWith(resource))));
      if (found.every((approval) => approval !== undefined)) return found as ApprovalView[];
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    throw new Error(`no pending approvals for ${resources.join(', ')}`);
  };

  /** Subscriptions of each edge's NATS connection ('airlock-edge') to approval decisions, from nats-server's monitoring. */
  const edgeDecisionSubscriptions = async (): Promise<number[]> => {
    const response = await fetch(`${nats.monitorUrl}/connz?subs=1`);
    const { connections } = (await response.json()) as { connections: { name?: string; subscriptions_list?: string[] }[] };
    return connections
      .filter((connection) => connection.name === 'airlock-edge')
      .map((connection) => (connection.subscriptions_list ?? []).filter((subject) => subject === approvalEventsStream.subjectFor('decided')).length)
      .sort((a, b) => b - a);
  };

  /** Every `approval.decided` event on the JetStream stream for `approvalId`, read from the start by a new consumer. */
  const decidedEventsFor = async (approvalId: string): Promise<ApprovalEvent[]> => {
    const bus = await createNatsBus({ servers: [nats.url], name: 'approvals-distributed-test' });
    try {
      const consumer = { stream: approvalEventsStream.name, durable: `count-${randomBytes(4).toString('hex')}`, filterSubject: approvalEventsStream.subjectFor('decided') };
      const events: ApprovalEvent[] = [];
      for (;;) {
        const batch = await bus.fetch(consumer, { max: 256, expiresMs: 500 });
        if (batch.length === 0) return events.filter((event) => event.approval?.id === approvalId);
        for (const message of batch) {
          events.push(ApprovalEvent.decode(message.data));
          await message.ack();
        }
      }
    } finally {
      await bus.close();
    }
  };

  const bucketsAtMoto = async () => ((await atMoto.s3.send(new ListBucketsCommand({}))).Buckets ?? []).map((bucket) => bucket.Name);

  it('holds three calls on one NATS subscription of the edge, and releases each the moment a vote through the admin API decides it', async () => {
    const instances = await launchInstances(atMoto.ec2, 3);
    const ec2 = new EC2Client({ region: 'us-east-1', endpoint: airlock.url, credentials: agent, maxAttempts: 1 });
    const held = instances.map((instanceId) => ec2.send(new TerminateInstancesCommand({ InstanceIds: [instanceId] })));
    // Awaited below; if an assertion fails first, their refusals must not surface as unhandled rejections.
    for (const call of held) call.catch(() => undefined);
    const approvals = await pendingFor(instances);

    // Three held calls, one subscription to decisions on the edge that holds them; none on the edge that holds nothing.
    expect(await edgeDecisionSubscriptions()).toEqual([1, 0]);
    expect(await instanceStates(atMoto.ec2, instances)).toEqual(['running', 'running', 'running']);

    // One at a time: each acknowledged vote releases its own call, and only that one.
    for (const [index, approval] of approvals.entries()) {
      const voted = await api<ApprovalResponse>(secondEdge.url, await manager('maria'), 'POST', `approvals/${approval.id}/approve`, { reason: `ticket ${index}` });
      expect(voted).toMatchObject({ status: 200, body: { approval: { id: approval.id, status: 'approved' } } });
      const { TerminatingInstances } = await held[index]!;
      expect(TerminatingInstances?.map((instance) => instance.InstanceId)).toEqual([instances[index]]);
      expect(await instanceStates(atMoto.ec2, instances)).toEqual(instances.map((_, other) => (other <= index ? 'terminated' : 'running')));
    }
    ec2.destroy();
    // Nothing held: the edge no longer subscribes.
    for (let attempt = 0; attempt < 100 && (await edgeDecisionSubscriptions())[0] !== 0; attempt++) await new Promise((resolve) => setTimeout(resolve, 50));
    expect(await edgeDecisionSubscriptions()).toEqual([0, 0]);
    for (const approval of approvals) expect(await decidedEventsFor(approval.id)).toHaveLength(1);
  });

  it('a quorum of two: two managers voting at the same instant on two edges approve it exactly once, each vote recorded once', async () => {
    const s3 = s3ThroughAirlock(airlock.url, agent);
    await s3.send(new CreateBucketCommand({ Bucket: 'two-managers-bucket' }));
    const held = s3.send(new DeleteBucketCommand({ Bucket: 'two-managers-bucket' }));
    held.catch(() => undefined);
    const [approval] = await pendingFor(['two-managers-bucket']);
    expect(approval).toMatchObject({ quorum: 2, approverGroups: ['managers'], policyId: 'delete-bucket-needs-two-managers' });

    const [maria, lee] = await Promise.all([manager('maria'), manager('lee')]);
    const votes = await Promise.all([
      api<ApprovalResponse>(airlock.url, maria, 'POST', `approvals/${approval!.id}/approve`, {}),
      api<ApprovalResponse>(secondEdge.url, lee, 'POST', `approvals/${approval!.id}/approve`, {}),
    ]);
    expect(votes.map((vote) => vote.status)).toEqual([200, 200]);
    // Whichever was counted second decided it; the first saw one vote of two.
    expect(votes.map((vote) => vote.body.approval.votes.length).sort()).toEqual([1, 2]);
    expect(votes.map((vote) => vote.body.approval.status).sort()).toEqual(['approved', 'pending']);

    await held;
    s3.destroy();
    expect(await bucketsAtMoto()).not.toContain('two-managers-bucket');
    const shown = await api<ApprovalResponse>(airlock.url, maria, 'GET', `approvals/${approval!.id}`);
    expect(shown.body.approval.status).toBe('approved');
    expect(shown.body.approval.votes.map((vote) => vote.subject).sort()).toEqual(['lee', 'maria']);
    expect(await decidedEventsFor(approval!.id)).toHaveLength(1);

    const events = await waitForRecordedEvents(airlock.dataDir, (recorded) => recorded.some((event) => event.call?.approvalId === approval!.id && event.call.upstreamStatus !== undefined));
    const released = events.filter((event) => event.call?.approvalId === approval!.id && event.call.upstreamStatus !== undefined);
    expect(released).toHaveLength(1);
    expect(released[0]?.call?.upstreamStatus).toBe(204);
    expect(released[0]?.call?.approval?.votes?.map((vote) => vote.voter?.subject).sort()).toEqual(['lee', 'maria']);
  });

  it('a quorum of two with three managers voting at the same instant: two votes count, the third is refused, decided once', async () => {
    const s3 = s3ThroughAirlock(airlock.url, agent);
    await s3.send(new CreateBucketCommand({ Bucket: 'three-managers-bucket' }));
    const held = s3.send(new DeleteBucketCommand({ Bucket: 'three-managers-bucket' }));
    held.catch(() => undefined);
    const [approval] = await pendingFor(['three-managers-bucket']);
    const tokens = await Promise.all(['maria', 'lee', 'mo'].map(manager));
    const votes = await Promise.all(
      tokens.map((token, index) => api<ApprovalResponse | AdminErrorResponse>(index % 2 === 0 ? airlock.url : secondEdge.url, token, 'POST', `approvals/${approval!.id}/approve`, {})),
    );
    expect(votes.map((vote) => vote.status).sort()).toEqual([200, 200, 409]);
    expect(votes.find((vote) => vote.status === 409)?.body).toMatchObject({ code: 'Conflict' });

    await held;
    s3.destroy();
    const shown = await api<ApprovalResponse>(airlock.url, tokens[0]!, 'GET', `approvals/${approval!.id}`);
    expect(shown.body.approval.status).toBe('approved');
    expect(shown.body.approval.votes).toHaveLength(2);
    expect(new Set(shown.body.approval.votes.map((vote) => vote.subject)).size).toBe(2);
    expect(await decidedEventsFor(approval!.id)).toHaveLength(1);
    expect(await bucketsAtMoto()).not.toContain('three-managers-bucket');
  });
});
