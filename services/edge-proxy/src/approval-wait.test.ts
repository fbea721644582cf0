import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createEmbeddedBus, type Bus, type WatchOptions } from '@airlock/bus';
import { ApprovalEvent, ApprovalStatus, approvalEventsStream, type Approval } from '@airlock/contracts';
import { waitForDecision, type ApprovalWaitOptions } from './approval-wait.js';
import { decisionWatchOf } from './decision-watch.js';

function approvalOf(id: string, status: ApprovalStatus): Approval {
  return {
    id,
    status,
    requester: { subject: 'agent-7', issuer: 'https://idp.example', groups: [], sessionId: 's', name: '' },
    call: undefined,
    fingerprint: 'f',
    requirement: { approverGroups: ['managers'], quorum: 1, pendingTtlSeconds: 900, grantWindowSeconds: 600 },
    votes: [],
    policyId: 'p',
    reason: '',
    createdAtMs: 0,
    expiresAtMs: 0,
    grantExpiresAtMs: status === ApprovalStatus.APPROVAL_STATUS_APPROVED ? Date.now() + 60_000 : 0,
  };
}

const pending = approvalOf('a-1', ApprovalStatus.APPROVAL_STATUS_PENDING);

/** An approval service whose record of a-1 the test sets; counts reads. */
function approvalService(initial: Approval) {
  let current = initial;
  let reads = 0;
  return {
    client: {
      getApproval: async ({ id }: { id: string }) => {
        reads++;
        expect(id).toBe(initial.id);
        return { approval: current };
      },
    } as ApprovalWaitOptions['approval'],
    set(next: Approval) {
      current = next;
    },
    reads: () => reads,
  };
}

describe('waitForDecision', () => {
  let dir: string;
  let bus: Bus;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'airlock-wait-'));
    bus = await createEmbeddedBus({ dataDir: dir });
    await bus.ensureStream({ name: approvalEventsStream.name, subjects: [...approvalEventsStream.subjects] });
  });
  afterEach(async () => {
    await bus.close();
    await rm(dir, { recursive: true, force: true });
  });

  const decided = (approval: Approval) =>
    bus.publish(approvalEventsStream.subjectFor('decided'), ApprovalEvent.encode({ eventId: `${approval.id}.decided`, kind: 'decided', approval, atMs: 0 }).finish());

  it('is released by the decision event, long before the next poll', async () => {
    const service = approvalService(pending);
    const signal = new AbortController().signal;
    const waiting = waitForDecision(pending, { approval: service.client, bus, waitMs: 600_000, pollMs: 600_000, timeoutMs: 1000, signal, now: Date.now });
    // Another approval's decision does not release this one.
    for (let attempt = 0; attempt < 100 && service.reads() === 0; attempt++) await new Promise((resolve) => setTimeout(resolve, 5));
    await decided(approvalOf('other', ApprovalStatus.APPROVAL_STATUS_APPROVED));
    const approved = approvalOf('a-1', ApprovalStatus.APPROVAL_STATUS_APPROVED);
    service.set(approved);
    await decided(approved);
    expect((await waiting).status).toBe(ApprovalStatus.APPROVAL_STATUS_APPROVED);
    // The event woke the wait; the approval service's record is what it returned.
    expect(service.reads()).toBe(2);
  });

  it('sees a decision by polling when there is no bus', async () => {
    const service = approvalService(pending);
    const waiting = waitForDecision(pending, { approval: service.client, waitMs: 600_000, pollMs: 5, timeoutMs: 1000, signal: new AbortController().signal, now: Date.now });
    for (let attempt = 0; attempt < 100 && service.reads() < 2; attempt++) await new Promise((resolve) => setTimeout(resolve, 5));
    service.set(approvalOf('a-1', ApprovalStatus.APPROVAL_STATUS_DENIED));
    expect((await waiting).status).toBe(ApprovalStatus.APPROVAL_STATUS_DENIED);
  });

  it('returns the approval still pending once the wait is over', async () => {
    const service = approvalService(pending);
    const answer = await waitForDecision(pending, { approval: service.client, bus, waitMs: 30, pollMs: 5, timeoutMs: 1000, signal: new AbortController().signal, now: Date.now });
    expect(answer.status).toBe(ApprovalStatus.APPROVAL_STATUS_PENDING);
    expect(service.reads()).toBeGreaterThanOrEqual(1);
  });

  it('reads once and returns without waiting when the wait is 0; a settled approval needs no read', async () => {
    const service = approvalService(pending);
    const options = { approval: service.client, bus, waitMs: 0, timeoutMs: 1000, signal: new AbortController().signal, now: Date.now };
    expect((await waitForDecision(pending, options)).status).toBe(ApprovalStatus.APPROVAL_STATUS_PENDING);
    expect(service.reads()).toBe(1);
    const denied = approvalOf('a-1', ApprovalStatus.APPROVAL_STATUS_DENIED);
    expect(await waitForDecision(denied, options)).toBe(denied);
    expect(service.reads()).toBe(1);
  });

  it('ends when the client goes away, and stops listening for its decision', async () => {
    const service = approvalService(pending);
    const client = new AbortController();
    const waiting = waitForDecision(pending, { approval: service.client, bus, waitMs: 600_000, pollMs: 600_000, timeoutMs: 1000, signal: client.signal, now: Date.now });
    for (let attempt = 0; attempt < 100 && service.reads() === 0; attempt++) await new Promise((resolve) => setTimeout(resolve, 5));
    expect(decisionWatchOf(bus).heldApprovals).toBe(1);
    client.abort();
    await expect(waiting).rejects.toMatchObject({ code: 'ApprovalPending', message: 'The client went away while approval a-1 was pending.' });
    expect(decisionWatchOf(bus).heldApprovals).toBe(0);
  });

  it('holds many calls on one bus subscription, each released by its own decision', async () => {
    const watches = { opened: 0, open: 0 };
    const counted = {
      watch(subject: string, options: WatchOptions = {}) {
        watches.opened++;
        watches.open++;
        options.signal?.addEventListener('abort', () => watches.open--, { once: true });
        return bus.watch(subject, options);
      },
    };
    const records = new Map<string, Approval>();
    let reads = 0;
    const service: ApprovalWaitOptions['approval'] = {
      getApproval: async ({ id }: { id: string }) => {
        reads++;
        return { approval: records.get(id) ?? approvalOf(id, ApprovalStatus.APPROVAL_STATUS_PENDING) };
      },
    };
    const ids = Array.from({ length: 200 }, (_, index) => `held-${index}`);
    const waits = ids.map((id) =>
      waitForDecision(approvalOf(id, ApprovalStatus.APPROVAL_STATUS_PENDING), { approval: service, bus: counted, waitMs: 600_000, pollMs: 600_000, timeoutMs: 1000, signal: new AbortController().signal, now: Date.now }),
    );
    for (let attempt = 0; attempt < 200 && reads < ids.length; attempt++) await new Promise((resolve) => setTimeout(resolve, 5));
    expect(watches).toEqual({ opened: 1, open: 1 });
    // Half approved, half denied, in reverse order of asking.
    for (const [index, id] of [...ids.entries()].reverse()) {
      const decision = approvalOf(id, index % 2 === 0 ? ApprovalStatus.APPROVAL_STATUS_APPROVED : ApprovalStatus.APPROVAL_STATUS_DENIED);
      records.set(id, decision);
      await decided(decision);
    }
    const released = await Promise.all(waits);
    expect(released.map((approval) => [approval.id, approval.status])).toEqual(
      ids.map((id, index) => [id, index % 2 === 0 ? ApprovalStatus.APPROVAL_STATUS_APPROVED : ApprovalStatus.APPROVAL_STATUS_DENIED]),
    );
    // One read to start and one after its wake-up, per call: no polling happened.
    expect(reads).toBe(2 * ids.length);
    expect(watches).toEqual({ opened: 1, open: 0 });
  });
});
