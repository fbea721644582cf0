import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { CreateBucketCommand, DeleteBucketCommand, ListBucketsCommand, S3Client } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AdminErrorResponse, ApprovalResponse, ApprovalsResponse, ApprovalView } from '@airlock/edge-proxy';
import { assumeThroughAirlock, s3ThroughAirlock, type SessionCredentials } from '../support/agent-credentials.js';
import { refusalOf } from '../support/refusals.js';
import { startEmbeddedAirlock, type AirlockUnderTest } from '../support/airlock.js';
import { createAwsWorld, type AwsWorld } from '../support/aws-world.js';
import { startIdp } from '../support/idp.js';
import { allowPolicy, signInPolicy, writePolicyFile } from '../support/policies.js';
import { waitForRecordedEvents } from '../support/recordings.js';

const run = promisify(execFile);
const repoRoot = fileURLToPath(new URL('../..', import.meta.url));
const cliPath = join(repoRoot, 'cli/dist/main.js');
const sessionKeys = `test-1:${randomBytes(32).toString('base64')}`;
/**
 * Short, so that the pending case does not make the suite slow; long enough for a person (this test) to approve in,
 * with `airlock approvals approve` started as a process of its own on a busy two-core machine.
 */
const approvalWaitSeconds = 12;

type Idp = Awaited<ReturnType<typeof startIdp>>;

/**
 * Approvals end to end, in one embedded Airlock: a policy gates s3:DeleteBucket behind @approval("managers"); an agent's
 * DeleteBucket is held at the edge while a manager decides through the admin API or `airlock approvals`; the call then
 * reaches moto (or is refused with the denier's reason), and every vote lands in the session record.
 */
describe('approvals: held calls released by a manager, refused on denial, retried after approval', () => {
  let world: AwsWorld;
  let agents: Idp;
  let people: Idp;
  let airlock: AirlockUnderTest;
  let scratch: string;
  let managerHome: string;
  let agent: SessionCredentials;

  beforeAll(async () => {
    scratch = await mkdtemp(join(tmpdir(), 'airlock-approvals-'));
    [world, agents, people] = await Promise.all([
      createAwsWorld(),
      startIdp({ audience: 'airlock', groups: ['agents'] }),
      startIdp({ audience: 'airlock', groups: ['managers'], claims: (clientId) => ({ name: `Manager ${clientId}` }) }),
    ]);
    // Its own policies, not the default pack: sign in, create buckets freely, delete them only with a manager's approval.
    const policyFile = await writePolicyFile(scratch, 'delete-bucket.cedar', [
      signInPolicy,
      allowPolicy('create-buckets', ['s3:CreateBucket']),
      [
        '@id("delete-bucket-needs-a-manager")',
        '@approval("managers")',
        '@grant_window("300")',
        'permit (principal, action == Airlock::Action::"s3:DeleteBucket", resource);',
        '',
      ].join('\n'),
    ]);
    airlock = await startEmbeddedAirlock({
      config: {
        identity: { issuers: [agents, people].map((idp) => ({ issuer: idp.issuer, audience: 'airlock' })) },
        upstream: { endpoint: world.moto.url },
        policy: { files: [policyFile] },
        edge: { allowedRegions: ['us-east-1'], approvalWaitSeconds },
        logging: { level: 'info' },
      },
      env: { ...world.vendingEnv, AIRLOCK_SESSION_KEYS: sessionKeys },
    });
    agent = await assume('agent-7');
    for (const bucket of ['approved-bucket', 'denied-bucket', 'retried-bucket']) await s3(agent).send(new CreateBucketCommand({ Bucket: bucket }));

    // A manager signed in with `airlock login`: a stored login whose access token is for Airlock's audience.
    managerHome = join(scratch, 'maria-home');
    await mkdir(managerHome, { recursive: true, mode: 0o700 });
    const accessToken = await people.issueToken({ clientId: 'maria' });
    await writeFile(
      join(managerHome, 'login.json'),
      JSON.stringify({
        version: 1,
        issuer: people.issuer,
        clientId: 'maria',
        audience: 'airlock',
        scope: 'openid',
        tokenEndpoint: `${people.issuer}/token`,
        endpoint: airlock.url,
        accessToken,
        obtainedAt: new Date().toISOString(),
      }),
      { mode: 0o600 },
    );
  });

  afterAll(async () => {
    await airlock?.stop();
    await Promise.all([world?.stop(), agents?.stop(), people?.stop()]);
    if (scratch) await rm(scratch, { recursive: true, force: true });
  });

  const assume = async (clientId: string): Promise<SessionCredentials> =>
    assumeThroughAirlock(airlock.url, world.roleArn, await agents.issueToken({ clientId }), clientId);

  const s3 = (credentials: SessionCredentials) => s3ThroughAirlock(airlock.url, credentials);

  const bucketsInMoto = async (): Promise<string[]> => {
    const direct = new S3Client({ region: 'us-east-1', endpoint: world.moto.url, forcePathStyle: true, credentials: world.vendingIdentity });
    const { Buckets } = await direct.send(new ListBucketsCommand({}));
    direct.destroy();
    return (Buckets ?? []).map((bucket) => bucket.Name ?? '');
  };

  const api = async <T>(bearer: string, method: 'GET' | 'POST', path: string, body?: unknown) => {
    const headers: Record<string, string> = { authorization: `Bearer ${bearer}` };
    if (body !== undefined) headers['content-type'] = 'application/json';
    const response = await fetch(`${airlock.url}/_airlock/api/v1/${path}`, { method, headers, ...(body === undefined ? {} : { body: JSON.stringify(body) }) });
    expect(response.headers.get('content-type')).toMatch(/^application\/json/);
    return { status: response.status, body: (await response.json()) as T };
  };
  const manager = (clientId = 'maria') => people.issueToken({ clientId });

  /** Polls (bounded) the admin API until a pending approval names `bucket`. */
  async function pendingFor(bucket: string): Promise<ApprovalView> {
    for (let attempt = 0; attempt < 100; attempt++) {
      const listed = await api<ApprovalsResponse>(await manager(), 'GET', 'approvals?status=pending');
      expect(listed.status).toBe(200);
      const found = listed.body.approvals.find((approval) => approval.resources.includes(`arn:aws:s3:::${bucket}`));
      if (found) return found;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    throw new Error(`no pending approval for ${bucket}`);
  }

  let approvedId: string;
  let deniedId: string;
  let retriedId: string;

  it('holds a gated call and releases it the moment a manager approves with airlock approvals approve', async () => {
    const held = s3(agent).send(new DeleteBucketCommand({ Bucket: 'approved-bucket' }));
    const pending = await pendingFor('approved-bucket');
    approvedId = pending.id;
    expect(pending).toMatchObject({
      status: 'pending',
      requester: { subject: 'agent-7', issuer: agents.issuer, groups: ['agents'] },
      action: 's3:DeleteBucket',
      approverGroups: ['managers'],
      quorum: 1,
      policyId: 'delete-bucket-needs-a-manager',
      votes: [],
      grantExpiresAt: null,
    });

    const approved = await run(process.execPath, [cliPath, 'approvals', 'approve', approvedId, '--reason', 'cleanup ticket 42'], {
      env: { ...cliEnv(), AIRLOCK_CONFIG_DIR: managerHome },
    });
    expect(approved.stdout).toContain(`Approved: approval ${approvedId} is now approved.`);
    expect(approved.stdout).toContain('approved by Manager maria (maria)');

    // One attempt, no retry: the held call itself went through.
    await held;
    expect(await bucketsInMoto()).not.toContain('approved-bucket');
    const shown = await api<ApprovalResponse>(await manager(), 'GET', `approvals/${approvedId}`);
    expect(shown.body.approval).toMatchObject({
      status: 'approved',
      votes: [{ subject: 'maria', issuer: people.issuer, name: 'Manager maria', approve: true, reason: 'cleanup ticket 42' }],
    });
    expect(shown.body.approval.grantExpiresAt).not.toBeNull();
  });

  it('refuses a held call when a manager denies it, with the reason reaching the agent', async () => {
    const held = refusalOf(s3(agent).send(new DeleteBucketCommand({ Bucket: 'denied-bucket' })));
    const pending = await pendingFor('denied-bucket');
    deniedId = pending.id;
    const noReason = await api<AdminErrorResponse>(await manager('maria'), 'POST', `approvals/${deniedId}/deny`, {});
    expect(noReason).toMatchObject({ status: 400, body: { code: 'InvalidRequest' } });
    const denied = await api<ApprovalResponse>(await manager('maria'), 'POST', `approvals/${deniedId}/deny`, { reason: 'denied-bucket holds the audit logs' });
    expect(denied).toMatchObject({ status: 200, body: { approval: { id: deniedId, status: 'denied' } } });

    const refused = await held;
    expect(refused.name).toBe('AccessDenied');
    expect(refused.status).toBe(403);
    expect(refused.message).toContain(deniedId);
    expect(refused.message).toContain('denied-bucket holds the audit logs');
    expect(await bucketsInMoto()).toContain('denied-bucket');
  });

  it('answers ApprovalPending naming the id and how to approve when nobody decides in time; the retry after approval succeeds', async () => {
    const refused = await refusalOf(s3(agent).send(new DeleteBucketCommand({ Bucket: 'retried-bucket' })));
    expect(refused.name).toBe('AccessDenied');
    expect(refused.status).toBe(403);
    const id = /approval ([\w-]+) is pending/.exec(refused.message)?.[1];
    expect(id).toBeDefined();
    retriedId = id!;
    expect(refused.message).toContain(`airlock approvals approve ${retriedId}`);
    expect(refused.message).toContain('managers');
    expect(await bucketsInMoto()).toContain('retried-bucket');

    // The requester never approves their own request, even with a token that puts them in the approver group.
    const own = await api<AdminErrorResponse>(await agents.issueToken({ clientId: 'agent-7', groups: ['managers'] }), 'POST', `approvals/${retriedId}/approve`, {});
    expect(own).toEqual({ status: 403, body: { code: 'AccessDenied', message: 'The requester cannot approve their own request.' } });
    // Nor does anyone outside the approver groups.
    const outsider = await api<AdminErrorResponse>(await people.issueToken({ clientId: 'eve', groups: ['engineers'] }), 'POST', `approvals/${retriedId}/approve`, {});
    expect(outsider.status).toBe(403);
    expect(outsider.body.code).toBe('AccessDenied');

    const approved = await api<ApprovalResponse>(await manager('mo'), 'POST', `approvals/${retriedId}/approve`, {});
    expect(approved.body.approval).toMatchObject({ status: 'approved', votes: [{ subject: 'mo', approve: true }] });
    const again = await api<AdminErrorResponse>(await manager('maria'), 'POST', `approvals/${retriedId}/approve`, {});
    expect(again).toMatchObject({ status: 409, body: { code: 'Conflict' } });

    // The retry asks again, finds the grant for this requester and this request, and goes through at once.
    await s3(agent).send(new DeleteBucketCommand({ Bucket: 'retried-bucket' }));
    expect(await bucketsInMoto()).not.toContain('retried-bucket');
  });

  it('does not let another agent use the grant: its identical call waits for its own approval', async () => {
    const other = await assume('agent-8');
    await s3(agent).send(new CreateBucketCommand({ Bucket: 'retried-bucket' }));
    const held = refusalOf(s3(other).send(new DeleteBucketCommand({ Bucket: 'retried-bucket' })));
    const pending = await pendingFor('retried-bucket');
    expect(pending.id).not.toBe(retriedId);
    expect(pending.requester.subject).toBe('agent-8');
    await api<ApprovalResponse>(await manager(), 'POST', `approvals/${pending.id}/deny`, { reason: 'not yours' });
    expect((await held).message).toContain('not yours');
  });

  it('lists by status and shows one approval; refuses bad input', async () => {
    const approved = await api<ApprovalsResponse>(await manager(), 'GET', 'approvals?status=approved');
    expect(approved.body.approvals.map((approval) => approval.id).sort()).toEqual([approvedId, retriedId].sort());
    const denied = await api<ApprovalsResponse>(await manager(), 'GET', 'approvals?status=denied');
    expect(denied.body.approvals.map((approval) => approval.id)).toContain(deniedId);
    expect((await api<AdminErrorResponse>(await manager(), 'GET', 'approvals?status=maybe')).body.code).toBe('InvalidRequest');
    expect((await api<AdminErrorResponse>(await manager(), 'GET', 'approvals/no-such-approval')).status).toBe(404);
    const listed = await run(process.execPath, [cliPath, 'approvals', 'list', '--status', 'approved'], { env: { ...cliEnv(), AIRLOCK_CONFIG_DIR: managerHome } });
    expect(listed.stdout).toContain(approvedId);
    expect(listed.stdout).toContain('s3:DeleteBucket');
    const shown = await run(process.execPath, [cliPath, 'approvals', 'show', deniedId], { env: { ...cliEnv(), AIRLOCK_CONFIG_DIR: managerHome } });
    expect(shown.stdout).toContain('Status:');
    expect(shown.stdout).toContain('denied by Manager maria (maria)');
    expect(shown.stdout).toContain('denied-bucket holds the audit logs');
  });

  it('records each held call with its approval, votes and voters in the session events', async () => {
    const events = await waitForRecordedEvents(airlock.dataDir, (recorded) => [approvedId, deniedId, retriedId].every((id) => recorded.some((event) => event.call?.approvalId === id && event.call.approval?.status !== 'APPROVAL_STATUS_PENDING')));
    const released = events.find((event) => event.call?.approvalId === approvedId && event.call.upstreamStatus === 204);
    expect(released?.call).toMatchObject({
      decision: 'DECISION_APPROVAL_REQUIRED',
      approval: {
        id: approvedId,
        status: 'APPROVAL_STATUS_APPROVED',
        votes: [{ voter: { subject: 'maria', issuer: people.issuer }, approve: true, reason: 'cleanup ticket 42' }],
      },
    });
    expect(released?.call?.approval?.call).toBeUndefined();
    const refused = events.find((event) => event.call?.approvalId === deniedId);
    expect(refused?.call).toMatchObject({
      errorCode: 'AccessDenied',
      approval: { status: 'APPROVAL_STATUS_DENIED', votes: [{ voter: { subject: 'maria' }, reason: 'denied-bucket holds the audit logs' }] },
    });
    // Canonical proto3 JSON leaves out false: a deny is a vote without `approve`.
    expect(refused?.call?.approval?.votes?.[0]?.approve ?? false).toBe(false);
    const retried = events.filter((event) => event.call?.approvalId === retriedId);
    expect(retried.map((event) => [event.call?.errorCode ?? '', event.call?.approval?.status])).toEqual(
      expect.arrayContaining([
        ['ApprovalPending', 'APPROVAL_STATUS_PENDING'],
        ['', 'APPROVAL_STATUS_APPROVED'],
      ]),
    );
  });

  function cliEnv(): Record<string, string> {
    return { PATH: process.env.PATH ?? '', HOME: scratch };
  }
});
