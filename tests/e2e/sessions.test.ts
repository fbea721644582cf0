import { randomBytes } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';
import { CreateBucketCommand, ListObjectsV2Command, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { AssumeRoleWithWebIdentityCommand, STSClient } from '@aws-sdk/client-sts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AdminErrorResponse, RevokeResponse, SessionsResponse, SessionView, WhoamiResponse } from '@airlock/edge-proxy';
import { startDistributedAirlock, type DistributedAirlock, type ExtraEdge } from '../support/airlock.js';
import { createAwsWorld, type AwsWorld } from '../support/aws-world.js';
import { startIdp } from '../support/idp.js';
import { startNats, startRedis, type Peer } from '../support/peers.js';

const repoRoot = fileURLToPath(new URL('../..', import.meta.url));
const sessionKeys = `test-1:${randomBytes(32).toString('base64')}`;
const adminGroup = 'airlock-admins';
const bucket = 'sessions-e2e';

type Idp = Awaited<ReturnType<typeof startIdp>>;
type Credentials = { accessKeyId: string; secretAccessKey: string; sessionToken: string };

/**
 * Sessions across two edge processes that share state (Redis) and a bus (NATS): an admin lists and revokes through
 * the edges' admin API, and a revocation written through one edge is enforced by the other within seconds.
 *
 * Three issuers stand for three principals: agents (the sessions under test), people (an admin) and contractors (a
 * caller who is not an admin). The test IdP names every token's subject after the same client id, so the agents' and
 * the contractors' principals share a subject and differ only by issuer, which also proves that revocation by
 * subject is scoped to its issuer.
 */
describe('sessions: listed and revoked through the admin API, enforced on every edge', () => {
  let world: AwsWorld;
  let agents: Idp;
  let people: Idp;
  let contractors: Idp;
  let peers: Peer[] = [];
  let airlock: DistributedAirlock;
  let edgeB: ExtraEdge;
  let edgeA: string;
  /** Every token and secret the test saw: none may reach a log line. */
  const secrets: string[] = [];

  beforeAll(async () => {
    const [nats, redis] = await Promise.all([startNats(), startRedis()]);
    peers = [nats, redis];
    [world, agents, people, contractors] = await Promise.all([
      createAwsWorld(),
      startIdp({ audience: 'airlock', groups: ['agents'] }),
      startIdp({ audience: 'airlock', groups: [adminGroup, 'engineers'] }),
      startIdp({ audience: 'airlock', groups: ['engineers'] }),
    ]);
    airlock = await startDistributedAirlock({
      config: {
        identity: { issuers: [agents, people, contractors].map((idp) => ({ issuer: idp.issuer, audience: 'airlock' })) },
        admin: { groups: [adminGroup] },
        upstream: { endpoint: world.moto.url },
        policy: { files: [join(repoRoot, 'policies/default.cedar')] },
        edge: { allowedRegions: ['us-east-1'] },
        drivers: {
          bus: { kind: 'nats', servers: [nats.url] },
          state: { kind: 'redis', url: redis.url },
          blob: { kind: 's3', bucket: 'airlock-recordings', endpoint: world.moto.url, forcePathStyle: true },
        },
        logging: { level: 'info' },
      },
      env: { ...world.vendingEnv, AIRLOCK_SESSION_KEYS: sessionKeys },
    });
    edgeA = airlock.url;
    edgeB = await airlock.addEdge();
  });

  afterAll(async () => {
    await airlock?.stop();
    await Promise.all([world?.stop(), agents?.stop(), people?.stop(), contractors?.stop(), ...peers.map((peer) => peer.stop())]);
  });

  const token = async (idp: Idp): Promise<string> => {
    const issued = await idp.issueToken();
    secrets.push(issued);
    return issued;
  };

  /** What an agent's SDK does first: AssumeRoleWithWebIdentity at the edge it talks to. */
  const assume = async (edge: string, idp: Idp, roleSessionName: string): Promise<Credentials> => {
    const sts = new STSClient({ region: 'us-east-1', endpoint: edge, maxAttempts: 1 });
    const { Credentials: issued } = await sts.send(
      new AssumeRoleWithWebIdentityCommand({ RoleArn: world.roleArn, RoleSessionName: roleSessionName, WebIdentityToken: await token(idp) }),
    );
    sts.destroy();
    const credentials = { accessKeyId: issued!.AccessKeyId!, secretAccessKey: issued!.SecretAccessKey!, sessionToken: issued!.SessionToken! };
    secrets.push(credentials.secretAccessKey, credentials.sessionToken);
    return credentials;
  };

  const s3 = (edge: string, credentials: Credentials) => new S3Client({ region: 'us-east-1', endpoint: edge, forcePathStyle: true, credentials, maxAttempts: 1 });
  const listObjects = (edge: string, credentials: Credentials) => s3(edge, credentials).send(new ListObjectsV2Command({ Bucket: bucket }));

  /** Polls (bounded, no timing assertion) until the edge refuses the credentials, and returns the refusal. */
  const refusal = async (edge: string, credentials: Credentials): Promise<unknown> => {
    for (let attempt = 0; attempt < 150; attempt++) {
      try {
        await listObjects(edge, credentials);
      } catch (error) {
        if ((error as { name?: string }).name === 'ExpiredToken') return error;
        throw error;
      }
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    throw new Error(`${edge} still accepts the revoked session`);
  };

  const api = async <T>(edge: string, bearer: string | undefined, method: 'GET' | 'POST', path: string, body?: unknown) => {
    const headers: Record<string, string> = {};
    if (bearer !== undefined) headers.authorization = `Bearer ${bearer}`;
    if (body !== undefined) headers['content-type'] = 'application/json';
    const response = await fetch(`${edge}/_airlock/api/v1/${path}`, { method, headers, ...(body === undefined ? {} : { body: JSON.stringify(body) }) });
    expect(response.headers.get('content-type')).toMatch(/^application\/json/);
    return { status: response.status, body: (await response.json()) as T };
  };

  const sessionsOf = async (edge: string, bearer: string, query: Record<string, string> = {}): Promise<SessionView[]> => {
    const answer = await api<SessionsResponse>(edge, bearer, 'GET', `sessions?${new URLSearchParams(query)}`);
    expect(answer.status).toBe(200);
    return answer.body.sessions;
  };

  const sessionNamed = async (roleSessionName: string): Promise<SessionView> => {
    const found = (await sessionsOf(edgeA, await token(people))).filter((session) => session.roleSessionName === roleSessionName);
    expect(found).toHaveLength(1);
    return found[0]!;
  };

  let agentSession: Credentials;

  it('gives an agent a session at edge A that works through both edges', async () => {
    agentSession = await assume(edgeA, agents, 'agent-first');
    await s3(edgeA, agentSession).send(new CreateBucketCommand({ Bucket: bucket }));
    await s3(edgeB.url, agentSession).send(new PutObjectCommand({ Bucket: bucket, Key: 'through-b.txt', Body: 'written through edge B' }));
    const listed = await listObjects(edgeA, agentSession);
    expect(listed.Contents?.map((object) => object.Key)).toEqual(['through-b.txt']);
  });

  it('tells a caller who they are and whether they are an admin', async () => {
    const admin = await api<WhoamiResponse>(edgeB.url, await token(people), 'GET', 'whoami');
    expect(admin).toEqual({
      status: 200,
      body: { subject: expect.any(String), issuer: people.issuer, name: null, email: null, groups: [adminGroup, 'engineers'], admin: true },
    });
    const agent = await api<WhoamiResponse>(edgeA, await token(agents), 'GET', 'whoami');
    expect(agent.body).toMatchObject({ issuer: agents.issuer, groups: ['agents'], admin: false });
  });

  it('lists the session for an admin on either edge, with who, what role and until when', async () => {
    const [subject] = (await sessionsOf(edgeA, await token(people))).map((session) => session.subject);
    const onB = await sessionsOf(edgeB.url, await token(people), { subject: subject!, issuer: agents.issuer });
    expect(onB).toEqual([
      {
        sessionId: expect.stringMatching(/^[\w-]+$/),
        subject: subject!,
        issuer: agents.issuer,
        name: null,
        groups: ['agents'],
        roleArn: world.roleArn,
        roleSessionName: 'agent-first',
        issuedAt: expect.stringMatching(/^\d{4}-\d\d-\d\dT/),
        expiresAt: expect.stringMatching(/^\d{4}-\d\d-\d\dT/),
        edgeId: expect.any(String),
        revoked: false,
      },
    ]);
    expect(Date.parse(onB[0]!.expiresAt)).toBeGreaterThan(Date.parse(onB[0]!.issuedAt));
  });

  it('lets a caller who is not an admin see and revoke only their own sessions', async () => {
    const target = await sessionNamed('agent-first');
    const own = await assume(edgeB.url, contractors, 'contractor-own');
    const bearer = await token(contractors);

    const listed = await sessionsOf(edgeA, bearer);
    expect(listed.map((session) => session.roleSessionName)).toEqual(['contractor-own']);
    const peek = await api<AdminErrorResponse>(edgeA, bearer, 'GET', `sessions?${new URLSearchParams({ subject: target.subject, issuer: agents.issuer })}`);
    expect(peek).toEqual({ status: 403, body: { code: 'AccessDenied', message: expect.stringContaining('admin') } });

    const byId = await api<AdminErrorResponse>(edgeA, bearer, 'POST', `sessions/${target.sessionId}/revoke`);
    expect(byId).toEqual({ status: 403, body: { code: 'AccessDenied', message: expect.stringContaining('admin group') } });
    const bySubject = await api<AdminErrorResponse>(edgeB.url, bearer, 'POST', 'sessions/revoke', { subject: target.subject, issuer: agents.issuer });
    expect(bySubject).toEqual({ status: 403, body: { code: 'AccessDenied', message: expect.any(String) } });
    expect((await sessionNamed('agent-first')).revoked).toBe(false);
    await listObjects(edgeB.url, agentSession);

    const ownId = listed[0]!.sessionId;
    expect(await api<RevokeResponse>(edgeB.url, bearer, 'POST', `sessions/${ownId}/revoke`)).toEqual({ status: 200, body: { revoked: [ownId] } });
    await expect(refusal(edgeA, own)).resolves.toMatchObject({ name: 'ExpiredToken', $metadata: { httpStatusCode: 400 } });
  });

  it('refuses a session revoked by id through edge A on edge B within seconds, and only that session', async () => {
    const other = await assume(edgeB.url, agents, 'agent-second');
    // Edge B has just answered for both sessions, so it holds "not revoked" in its cache when the revocation lands.
    await listObjects(edgeB.url, agentSession);
    await listObjects(edgeB.url, other);

    const target = await sessionNamed('agent-first');
    const revoked = await api<RevokeResponse>(edgeA, await token(people), 'POST', `sessions/${target.sessionId}/revoke`);
    expect(revoked).toEqual({ status: 200, body: { revoked: [target.sessionId] } });

    // The edge that wrote the revocation enforces it at once; the other within its cache interval.
    await expect(listObjects(edgeA, agentSession)).rejects.toMatchObject({ name: 'ExpiredToken', $metadata: { httpStatusCode: 400 } });
    const refused = await refusal(edgeB.url, agentSession);
    expect(refused).toMatchObject({ name: 'ExpiredToken', $metadata: { httpStatusCode: 400 }, message: expect.stringContaining('revoked') });

    await listObjects(edgeA, other);
    await listObjects(edgeB.url, other);
    expect((await sessionNamed('agent-first')).revoked).toBe(true);
    expect((await sessionNamed('agent-second')).revoked).toBe(false);
  });

  it('revokes every session of a subject, at its issuer only', async () => {
    const third = await assume(edgeA, agents, 'agent-third');
    const contractor = await assume(edgeA, contractors, 'contractor-bystander');
    for (const credentials of [third, contractor]) await listObjects(edgeB.url, credentials);
    const second = await sessionNamed('agent-second');
    const thirdView = await sessionNamed('agent-third');
    const first = await sessionNamed('agent-first');

    const answer = await api<RevokeResponse>(edgeB.url, await token(people), 'POST', 'sessions/revoke', { subject: second.subject, issuer: agents.issuer });
    expect(answer.status).toBe(200);
    expect([...answer.body.revoked].sort()).toEqual([first.sessionId, second.sessionId, thirdView.sessionId].sort());

    for (const edge of [edgeA, edgeB.url]) {
      await expect(refusal(edge, third)).resolves.toMatchObject({ name: 'ExpiredToken' });
    }
    const secondCredentials = await assume(edgeA, agents, 'agent-after');
    // Session times are whole seconds: a session issued in the second of the revocation counts as revoked. One
    // issued later is a new session, and works.
    const fresh = await (async () => {
      for (let attempt = 0; attempt < 30; attempt++) {
        const credentials = attempt === 0 ? secondCredentials : await assume(edgeA, agents, `agent-after-${attempt}`);
        try {
          await listObjects(edgeB.url, credentials);
          return credentials;
        } catch (error) {
          if ((error as { name?: string }).name !== 'ExpiredToken') throw error;
        }
        await new Promise((resolve) => setTimeout(resolve, 200));
      }
      throw new Error('no session issued after the revocation was accepted');
    })();
    await listObjects(edgeA, fresh);

    // Same subject string, other issuer: another principal, untouched.
    await listObjects(edgeA, contractor);
    await listObjects(edgeB.url, contractor);
    const views = await sessionsOf(edgeA, await token(people), { subject: second.subject });
    const byName = new Map(views.map((session) => [session.roleSessionName, session]));
    expect(byName.get('agent-second')?.revoked).toBe(true);
    expect(byName.get('agent-third')?.revoked).toBe(true);
    expect(byName.get('contractor-bystander')).toMatchObject({ issuer: contractors.issuer, revoked: false });
  });

  it('answers bad admin API calls with JSON errors', async () => {
    expect(await api<AdminErrorResponse>(edgeA, undefined, 'GET', 'sessions')).toEqual({
      status: 403,
      body: { code: 'MissingAuthentication', message: expect.stringContaining('Bearer') },
    });
    expect(await api<AdminErrorResponse>(edgeA, 'not-a-token', 'GET', 'whoami')).toMatchObject({ status: 400, body: { code: 'InvalidIdentityToken' } });
    const admin = await token(people);
    expect(await api<AdminErrorResponse>(edgeB.url, admin, 'POST', 'sessions/00000000-0000-4000-8000-000000000000/revoke')).toMatchObject({
      status: 404,
      body: { code: 'NotFound' },
    });
    expect(await api<AdminErrorResponse>(edgeB.url, admin, 'POST', 'sessions/revoke', { issuer: agents.issuer })).toMatchObject({
      status: 400,
      body: { code: 'InvalidRequest' },
    });
    expect(await api<AdminErrorResponse>(edgeB.url, admin, 'POST', 'sessions/revoke', { subject: 'someone', issuer: 'https://not-trusted.example.com' })).toMatchObject({
      status: 400,
      body: { code: 'InvalidRequest' },
    });
    expect(await api<AdminErrorResponse>(edgeA, admin, 'GET', 'nothing-here')).toMatchObject({ status: 404, body: { code: 'NotFound' } });
    expect(await api<AdminErrorResponse>(edgeA, admin, 'POST', 'whoami')).toMatchObject({ status: 400, body: { code: 'InvalidRequest' } });
  });

  it('never writes a token or a session secret to the logs', () => {
    const output = airlock.output();
    expect(output).toContain('session revoked');
    expect(output).toContain('subject revoked');
    for (const secret of secrets) expect(output).not.toContain(secret);
  });

  // Last: it stops the shared state store.
  it('fails closed when the state store is down: no call, no new session, no listing', async () => {
    const live = await assume(edgeA, contractors, 'contractor-last');
    await listObjects(edgeB.url, live);
    const redis = peers[1]!;
    await redis.stop();

    const refused = await (async () => {
      for (let attempt = 0; attempt < 150; attempt++) {
        try {
          await listObjects(edgeB.url, live);
        } catch (error) {
          return error;
        }
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
      throw new Error('edge B kept accepting calls without its state store');
    })();
    expect(refused).toMatchObject({ name: 'ServiceUnavailable', $metadata: { httpStatusCode: 503 }, message: expect.stringContaining('revoked') });
    await expect(assume(edgeA, contractors, 'contractor-none')).rejects.toMatchObject({ $metadata: { httpStatusCode: 503 } });
    expect(await api<AdminErrorResponse>(edgeB.url, await token(people), 'GET', 'sessions')).toMatchObject({ status: 503, body: { code: 'DependencyUnavailable' } });
  });
});
