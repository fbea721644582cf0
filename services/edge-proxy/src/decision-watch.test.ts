import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { createEmbeddedBus, type Bus, type WatchOptions } from '@airlock/bus';
import { ApprovalEvent, ApprovalStatus, approvalEventsStream, type Approval } from '@airlock/contracts';
import { DecisionWatch, decisionWatchOf } from './decision-watch.js';

function approvalOf(id: string, status: ApprovalStatus): Approval {
  return {
    id,
    status,
    requester: undefined,
    call: undefined,
    fingerprint: 'f',
    requirement: undefined,
    votes: [],
    policyId: 'p',
    reason: '',
    createdAtMs: 0,
    expiresAtMs: 0,
    grantExpiresAtMs: 0,
  };
}

/** The real embedded bus, with its watches counted: how many were opened, how many are open now. */
function counted(bus: Bus) {
  const watches = { opened: 0, open: 0 };
  return {
    watches,
    bus: {
      watch(subject: string, options: WatchOptions = {}) {
        watches.opened++;
        watches.open++;
        options.signal?.addEventListener('abort', () => watches.open--, { once: true });
        return bus.watch(subject, options);
      },
    },
  };
}

const nextTurn = () => new Promise((resolve) => setTimeout(resolve, 10));

describe('DecisionWatch', () => {
  let dir: string;
  let bus: Bus;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'airlock-decisions-'));
    bus = await createEmbeddedBus({ dataDir: dir });
    await bus.ensureStream({ name: approvalEventsStream.name, subjects: [...approvalEventsStream.subjects] });
  });
  afterEach(async () => {
    await bus.close();
    await rm(dir, { recursive: true, force: true });
  });

  const publish = (kind: 'requested' | 'decided', approval: Approval) =>
    bus.publish(approvalEventsStream.subjectFor(kind), ApprovalEvent.encode({ eventId: `${approval.id}.${kind}`, kind, approval, atMs: 0 }).finish());

  it('wakes the listeners of the decided approval only, with the approval as announced', async () => {
    const decisions = new DecisionWatch(bus);
    const heard: string[] = [];
    decisions.listen('a-1', (approval) => heard.push(`a-1 saw ${approval.id} ${ApprovalStatus[approval.status]}`));
    decisions.listen('a-1', (approval) => heard.push(`a-1 again saw ${approval.id}`));
    decisions.listen('a-2', (approval) => heard.push(`a-2 saw ${approval.id}`));
    await publish('requested', approvalOf('a-1', ApprovalStatus.APPROVAL_STATUS_PENDING));
    await publish('decided', approvalOf('a-3', ApprovalStatus.APPROVAL_STATUS_APPROVED));
    await publish('decided', approvalOf('a-1', ApprovalStatus.APPROVAL_STATUS_DENIED));
    await vi.waitFor(() => expect(heard).toHaveLength(2));
    await nextTurn();
    expect(heard).toEqual(['a-1 saw a-1 APPROVAL_STATUS_DENIED', 'a-1 again saw a-1']);
  });

  it('ignores what it cannot decode and events of a pending approval', async () => {
    const decisions = new DecisionWatch(bus);
    const heard: string[] = [];
    decisions.listen('a-1', (approval) => heard.push(`${approval.id} ${ApprovalStatus[approval.status]}`));
    await bus.publish(approvalEventsStream.subjectFor('decided'), new Uint8Array([0xff, 0xff, 0xff]));
    await publish('decided', approvalOf('a-1', ApprovalStatus.APPROVAL_STATUS_PENDING));
    await publish('decided', approvalOf('a-1', ApprovalStatus.APPROVAL_STATUS_APPROVED));
    await vi.waitFor(() => expect(heard).toHaveLength(1));
    await nextTurn();
    expect(heard).toEqual(['a-1 APPROVAL_STATUS_APPROVED']);
  });

  it('serves many held calls with one subscription, opened for the first and closed after the last', async () => {
    const { bus: watched, watches } = counted(bus);
    const decisions = new DecisionWatch(watched);
    expect(watches.opened).toBe(0);
    const woken = new Set<string>();
    const stops = Array.from({ length: 500 }, (_, index) => decisions.listen(`a-${index % 250}`, (approval) => woken.add(`${index}:${approval.id}`)));
    expect(watches).toEqual({ opened: 1, open: 1 });
    expect(decisions.heldApprovals).toBe(250);
    for (let index = 0; index < 250; index += 2) await publish('decided', approvalOf(`a-${index}`, ApprovalStatus.APPROVAL_STATUS_APPROVED));
    await vi.waitFor(() => expect(woken.size).toBe(250));
    // Each decision woke both calls held for it, and nobody else.
    const expected = Array.from({ length: 500 }, (_, index) => index).filter((index) => (index % 250) % 2 === 0);
    expect([...woken].sort()).toEqual(expected.map((index) => `${index}:a-${index % 250}`).sort());

    for (const stop of stops.slice(1)) stop();
    expect(watches.open).toBe(1);
    stops[0]!();
    stops[0]!();
    expect(watches).toEqual({ opened: 1, open: 0 });
    expect(decisions.heldApprovals).toBe(0);
    // The next held call watches again.
    decisions.listen('a-new', () => undefined)();
    expect(watches).toEqual({ opened: 2, open: 0 });
  });

  it('keeps no listener for a stopped call: a later decision wakes nobody', async () => {
    const decisions = new DecisionWatch(bus);
    const heard: string[] = [];
    const stop = decisions.listen('a-1', (approval) => heard.push(approval.id));
    decisions.listen('a-2', (approval) => heard.push(approval.id));
    stop();
    await publish('decided', approvalOf('a-1', ApprovalStatus.APPROVAL_STATUS_APPROVED));
    await publish('decided', approvalOf('a-2', ApprovalStatus.APPROVAL_STATUS_APPROVED));
    await vi.waitFor(() => expect(heard).toEqual(['a-2']));
  });

  it('listens without a bus that works, and watches again once it does', async () => {
    let failing = true;
    let opened = 0;
    const flaky = {
      watch(subject: string, options?: WatchOptions) {
        if (failing) throw new Error('no bus right now');
        opened++;
        return bus.watch(subject, options);
      },
    };
    const decisions = new DecisionWatch(flaky);
    const stop = decisions.listen('a-1', () => undefined);
    expect(opened).toBe(0);
    failing = false;
    const heard: string[] = [];
    decisions.listen('a-2', (approval) => heard.push(approval.id));
    expect(opened).toBe(1);
    stop();
    await publish('decided', approvalOf('a-2', ApprovalStatus.APPROVAL_STATUS_APPROVED));
    await vi.waitFor(() => expect(heard).toEqual(['a-2']));
  });

  it('is one per bus', () => {
    expect(decisionWatchOf(bus)).toBe(decisionWatchOf(bus));
    expect(decisionWatchOf(counted(bus).bus)).not.toBe(decisionWatchOf(bus));
  });
});
