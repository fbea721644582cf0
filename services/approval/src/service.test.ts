import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  ApprovalEvent,
  type ApprovalServiceService,
  ApprovalStatus,
  approvalEventsStream,
  type Principal,
  type RequestApprovalRequest,
} from '@airlock/contracts';
import { createEmbeddedBus, type Bus } from '@airlock/bus';
import { createLogger } from '@airlock/logging';
import { createEmbeddedStateStore, type StateStore } from '@airlock/state';
import { bindInProcess, type ServiceClient } from '@airlock/transport';
import { createApprovalService } from './service.js';

const logger = createLogger({ service: 'approval-test', level: 'silent' });
const start = 1_700_000_000_000;

let dir: string;
let state: StateStore;
let bus: Bus;
let clock: number;
let client: ServiceClient<typeof ApprovalServiceService>;
let consumer = 0;

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'airlock-approval-'));
  state = await createEmbeddedStateStore({});
  bus = await createEmbeddedBus({ dataDir: dir });
  clock = start;
  client = await approvalClient(bus);
});
afterEach(async () => {
  await bus.close();
  await state.close();
  await rm(dir, { recursive: true, force: true });
});

async function approvalClient(withBus: Bus) {
  const service = await createApprovalService({ state, bus: withBus, logger, now: () => clock });
  await service.start?.();
  return bindInProcess(service.definition, service.implementation);
}

function person(subject: string, groups: string[] = []): Principal {
  return { subject, issuer: 'https://idp.example', groups, sessionId: `session-${subject}`, name: subject };
}

const agent = person('agent-7', ['ops']);
function ask(overrides: Partial<RequestApprovalRequest> = {}): RequestApprovalRequest {
  return {
    requester: agent,
    call: {
      service: 'ec2',
      operation: 'TerminateInstances',
      action: 'ec2:TerminateInstances',
      resources: ['arn:aws:ec2:eu-west-1:123456789012:instance/i-1'],
      region: 'eu-west-1',
      roleArn: 'arn:aws:iam::123456789012:role/agent',
      parameters: { InstanceId: 'i-1' },
    },
    fingerprint: 'sha256:terminate-i-1',
    requirement: { approverGroups: ['ops', 'sre'], quorum: 1, pendingTtlSeconds: 0, grantWindowSeconds: 0 },
    policyId: 'terminate-needs-ops',
    reason: 'ec2:TerminateInstances needs approval',
    ...overrides,
  };
}

/** Every approval event published so far, in order. */
async function publishedEvents(): Promise<ApprovalEvent[]> {
  const durable = `test-${consumer++}`;
  const events: ApprovalEvent[] = [];
  for (;;) {
    const batch = await bus.fetch({ stream: approvalEventsStream.name, durable }, { max: 100, expiresMs: 20 });
    if (batch.length === 0) return events;
    for (const message of batch) {
      const event = ApprovalEvent.decode(message.data);
      expect(message.subject).toBe(approvalEventsStream.subjectFor(event.kind as 'requested'));
      events.push(event);
      await message.ack();
    }
  }
}

describe('RequestApproval', () => {
  it('opens a pending approval with defaults filled in and announces it once', async () => {
    const { approval } = await client.requestApproval(ask());
    // Hex, so that it can be pasted into `airlock approvals approve <id>`: a base64url id may start with '-'.
    expect(approval?.id).toMatch(/^[0-9a-f]{32}$/);
    expect(approval).toMatchObject({
      status: ApprovalStatus.APPROVAL_STATUS_PENDING,
      requester: agent,
      fingerprint: 'sha256:terminate-i-1',
      requirement: { approverGroups: ['ops', 'sre'], quorum: 1, pendingTtlSeconds: 900, grantWindowSeconds: 600 },
      policyId: 'terminate-needs-ops',
      createdAtMs: start,
      expiresAtMs: start + 900_000,
      grantExpiresAtMs: 0,
      votes: [],
    });
    const events = await publishedEvents();
    expect(events).toEqual([{ eventId: `${approval?.id}.requested`, kind: 'requested', approval, atMs: start }]);
    expect(await state.get(`approval:${approval?.id}`)).not.toBeNull();
  });

  it('returns the same approval while it is pending, and a new one for another fingerprint or requester', async () => {
    const first = (await client.requestApproval(ask())).approval;
    clock += 60_000;
    expect((await client.requestApproval(ask())).approval?.id).toBe(first?.id);
    expect((await client.requestApproval(ask({ fingerprint: 'sha256:other' }))).approval?.id).not.toBe(first?.id);
    expect((await client.requestApproval(ask({ requester: person('agent-8') }))).approval?.id).not.toBe(first?.id);
    expect((await publishedEvents()).map((event) => event.kind)).toEqual(['requested', 'requested', 'requested']);
  });

  it('returns the approved one while its grant is valid, and opens a new one after the grant, a denial or expiry', async () => {
    const first = (await client.requestApproval(ask())).approval;
    await client.vote({ approvalId: first!.id, voter: person('olivia', ['ops']), approve: true, reason: '' });
    clock += 599_000;
    expect((await client.requestApproval(ask())).approval?.id).toBe(first?.id);
    clock += 1_000;
    const second = (await client.requestApproval(ask())).approval;
    expect(second?.id).not.toBe(first?.id);
    await client.vote({ approvalId: second!.id, voter: person('olivia', ['ops']), approve: false, reason: 'no' });
    const third = (await client.requestApproval(ask())).approval;
    expect(third?.id).not.toBe(second?.id);
    clock += 900_000;
    const fourth = (await client.requestApproval(ask())).approval;
    expect(fourth?.id).not.toBe(third?.id);
    expect((await client.getApproval({ id: third!.id })).approval?.status).toBe(ApprovalStatus.APPROVAL_STATUS_EXPIRED);
  });

  it('opens exactly one approval when the same request arrives many times at once', async () => {
    const answers = await Promise.all(Array.from({ length: 8 }, () => client.requestApproval(ask())));
    const ids = new Set(answers.map((answer) => answer.approval?.id));
    expect(ids.size).toBe(1);
    const list = await client.listApprovals({ statuses: [], limit: 0 });
    expect(list.approvals.map((approval) => approval.id)).toEqual([...ids]);
    expect((await publishedEvents()).map((event) => event.kind)).toEqual(['requested']);
  });

  it('rejects requests without requester, fingerprint or approver groups', async () => {
    await expect(client.requestApproval(ask({ requester: undefined }))).rejects.toMatchObject({ code: 'InvalidRequest' });
    await expect(client.requestApproval(ask({ fingerprint: '' }))).rejects.toMatchObject({ code: 'InvalidRequest' });
    await expect(
      client.requestApproval(ask({ requirement: { approverGroups: [' '], quorum: 1, pendingTtlSeconds: 0, grantWindowSeconds: 0 } })),
    ).rejects.toMatchObject({ code: 'InvalidRequest', message: 'An approval request must name at least one approver group.' });
  });

  it('fails when approvers cannot be told, and tells them when asked again', async () => {
    let failures = 1;
    const flaky: Bus = {
      ensureStream: (spec) => bus.ensureStream(spec),
      publish: (subject, data, options) => (failures-- > 0 ? Promise.reject(new Error('bus down')) : bus.publish(subject, data, options)),
      fetch: (c, o) => bus.fetch(c, o),
      watch: (pattern, options) => bus.watch(pattern, options),
      close: async () => {},
    };
    const flakyClient = await approvalClient(flaky);
    await expect(flakyClient.requestApproval(ask())).rejects.toMatchObject({ code: 'DependencyUnavailable' });
    expect(await publishedEvents()).toEqual([]);
    const { approval } = await flakyClient.requestApproval(ask());
    await flakyClient.requestApproval(ask());
    const events = await publishedEvents();
    expect(events.map((event) => [event.kind, event.approval?.id])).toEqual([['requested', approval?.id]]);
  });
});

describe('GetApproval', () => {
  it('reports an unknown id as NotFound', async () => {
    await expect(client.getApproval({ id: 'nope' })).rejects.toMatchObject({ code: 'NotFound', message: 'No approval with id "nope".' });
  });

  it('reads a pending approval past its deadline as EXPIRED and announces that once', async () => {
    const { approval } = await client.requestApproval(ask({ requirement: { approverGroups: ['ops'], quorum: 1, pendingTtlSeconds: 60, grantWindowSeconds: 0 } }));
    clock += 59_999;
    expect((await client.getApproval({ id: approval!.id })).approval?.status).toBe(ApprovalStatus.APPROVAL_STATUS_PENDING);
    clock += 1;
    const reads = await Promise.all(Array.from({ length: 5 }, () => client.getApproval({ id: approval!.id })));
    expect(reads.every((read) => read.approval?.status === ApprovalStatus.APPROVAL_STATUS_EXPIRED)).toBe(true);
    await client.getApproval({ id: approval!.id });
    const events = await publishedEvents();
    expect(events.map((event) => event.kind)).toEqual(['requested', 'expired']);
    expect(events[1]?.approval?.status).toBe(ApprovalStatus.APPROVAL_STATUS_EXPIRED);
  });
});

describe('Vote', () => {
  async function open(quorum = 1) {
    const { approval } = await client.requestApproval(
      ask({ requirement: { approverGroups: ['ops', 'sre'], quorum, pendingTtlSeconds: 300, grantWindowSeconds: 120 } }),
    );
    return approval!.id;
  }

  it('never lets the requester approve their own request, even when in an approver group', async () => {
    const id = await open();
    await expect(client.vote({ approvalId: id, voter: { ...agent, sessionId: 'another-session' }, approve: true, reason: '' })).rejects.toMatchObject({
      code: 'AccessDenied',
      message: 'The requester cannot approve their own request.',
    });
  });

  it('only takes votes from approver groups', async () => {
    const id = await open();
    await expect(client.vote({ approvalId: id, voter: person('mallory', ['dev']), approve: true, reason: '' })).rejects.toMatchObject({
      code: 'AccessDenied',
      message: `Only members of ops or sre may vote on approval ${id}.`,
    });
  });

  it('decides APPROVED at quorum, opening the grant window, and announces the decision', async () => {
    const id = await open(2);
    clock += 10_000;
    const once = (await client.vote({ approvalId: id, voter: person('olivia', ['ops']), approve: true, reason: 'fine' })).approval;
    expect(once?.status).toBe(ApprovalStatus.APPROVAL_STATUS_PENDING);
    await expect(client.vote({ approvalId: id, voter: person('olivia', ['ops']), approve: true, reason: '' })).rejects.toMatchObject({
      code: 'Conflict',
    });
    clock += 5_000;
    const twice = (await client.vote({ approvalId: id, voter: person('sam', ['sre']), approve: true, reason: '' })).approval;
    expect(twice?.status).toBe(ApprovalStatus.APPROVAL_STATUS_APPROVED);
    expect(twice?.grantExpiresAtMs).toBe(start + 15_000 + 120_000);
    expect(twice?.votes.map((cast) => [cast.voter?.subject, cast.approve, cast.atMs])).toEqual([
      ['olivia', true, start + 10_000],
      ['sam', true, start + 15_000],
    ]);
    await expect(client.vote({ approvalId: id, voter: person('rita', ['ops']), approve: true, reason: '' })).rejects.toMatchObject({
      code: 'Conflict',
      message: `Approval ${id} is already approved; it takes no more votes.`,
    });
    const events = await publishedEvents();
    expect(events.map((event) => event.kind)).toEqual(['requested', 'decided']);
    expect(events[1]?.approval?.status).toBe(ApprovalStatus.APPROVAL_STATUS_APPROVED);
  });

  it('decides DENIED on the first deny', async () => {
    const id = await open(3);
    const { approval } = await client.vote({ approvalId: id, voter: person('olivia', ['ops']), approve: false, reason: 'too risky' });
    expect(approval?.status).toBe(ApprovalStatus.APPROVAL_STATUS_DENIED);
    expect(approval?.grantExpiresAtMs).toBe(0);
    expect((await publishedEvents()).map((event) => event.kind)).toEqual(['requested', 'decided']);
  });

  it('refuses votes on an expired approval', async () => {
    const id = await open();
    clock += 300_000;
    await expect(client.vote({ approvalId: id, voter: person('olivia', ['ops']), approve: true, reason: '' })).rejects.toMatchObject({
      code: 'Conflict',
      message: `Approval ${id} is expired; it takes no more votes.`,
    });
    await expect(client.vote({ approvalId: 'missing', voter: person('olivia', ['ops']), approve: true, reason: '' })).rejects.toMatchObject({
      code: 'NotFound',
    });
  });

  it('never over-counts concurrent votes: quorum 2 with five voters at once records exactly two', async () => {
    const id = await open(2);
    const voters = ['a', 'b', 'c', 'd', 'e'].map((name) => person(name, ['ops']));
    const results = await Promise.allSettled(voters.map((voter) => client.vote({ approvalId: id, voter, approve: true, reason: '' })));
    const accepted = results.filter((result) => result.status === 'fulfilled');
    const refused = results.filter((result) => result.status === 'rejected');
    expect(accepted).toHaveLength(2);
    expect(refused.map((result) => (result as PromiseRejectedResult).reason.code)).toEqual(['Conflict', 'Conflict', 'Conflict']);
    const { approval } = await client.getApproval({ id });
    expect(approval?.status).toBe(ApprovalStatus.APPROVAL_STATUS_APPROVED);
    expect(approval?.votes).toHaveLength(2);
    expect((await publishedEvents()).map((event) => event.kind)).toEqual(['requested', 'decided']);
  });

  it('counts every one of concurrent votes below quorum', async () => {
    const id = await open(4);
    const voters = ['a', 'b', 'c'].map((name) => person(name, ['sre']));
    await Promise.all(voters.map((voter) => client.vote({ approvalId: id, voter, approve: true, reason: '' })));
    const { approval } = await client.getApproval({ id });
    expect(approval?.status).toBe(ApprovalStatus.APPROVAL_STATUS_PENDING);
    expect(approval?.votes.map((cast) => cast.voter?.subject).sort()).toEqual(['a', 'b', 'c']);
  });
});

describe('ListApprovals', () => {
  it('lists newest first, filtered by status and limited', async () => {
    const first = (await client.requestApproval(ask({ fingerprint: 'f1' }))).approval!;
    clock += 1;
    const second = (await client.requestApproval(ask({ fingerprint: 'f2' }))).approval!;
    clock += 1;
    const third = (await client.requestApproval(ask({ fingerprint: 'f3' }))).approval!;
    await client.vote({ approvalId: second.id, voter: person('olivia', ['ops']), approve: false, reason: '' });

    const all = await client.listApprovals({ statuses: [], limit: 0 });
    expect(all.approvals.map((approval) => approval.id)).toEqual([third.id, second.id, first.id]);
    const pending = await client.listApprovals({ statuses: [ApprovalStatus.APPROVAL_STATUS_PENDING], limit: 0 });
    expect(pending.approvals.map((approval) => approval.id)).toEqual([third.id, first.id]);
    const limited = await client.listApprovals({ statuses: [ApprovalStatus.APPROVAL_STATUS_PENDING], limit: 1 });
    expect(limited.approvals.map((approval) => approval.id)).toEqual([third.id]);
    clock += 900_000;
    const expired = await client.listApprovals({ statuses: [ApprovalStatus.APPROVAL_STATUS_EXPIRED], limit: 0 });
    expect(expired.approvals.map((approval) => approval.id)).toEqual([third.id, first.id]);
  });
});
