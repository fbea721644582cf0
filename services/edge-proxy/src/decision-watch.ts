import { ApprovalEvent, ApprovalStatus, approvalEventsStream, type Approval } from '@airlock/contracts';
import type { Bus } from '@airlock/bus';

type DecisionListener = (approval: Approval) => void;

/**
 * The calls one edge holds for approval, keyed by approval id, all fed by a single live watch of `approval.decided`:
 * a thousand held calls cost one bus subscription, not a thousand, and each decision is decoded once. The watch is
 * opened when the first call is held and closed when the last one leaves, so an idle edge subscribes to nothing.
 * A decision only wakes the listeners of its own approval.
 */
export class DecisionWatch {
  private readonly listeners = new Map<string, Set<DecisionListener>>();
  private watching: AbortController | undefined;

  constructor(private readonly bus: Pick<Bus, 'watch'>) {}

  /** Approval ids with at least one held call. */
  get heldApprovals(): number {
    return this.listeners.size;
  }

  /**
   * Calls `onDecided` with the approval as announced each time a decision for `approvalId` is published, until the
   * returned function is called. Without a bus right now nothing is announced; the caller's polling still sees the
   * decision, and the next listener tries the bus again.
   */
  listen(approvalId: string, onDecided: DecisionListener): () => void {
    let forApproval = this.listeners.get(approvalId);
    if (!forApproval) {
      forApproval = new Set();
      this.listeners.set(approvalId, forApproval);
    }
    forApproval.add(onDecided);
    this.startWatching();
    return () => {
      const current = this.listeners.get(approvalId);
      if (!current?.delete(onDecided)) return;
      if (current.size === 0) this.listeners.delete(approvalId);
      if (this.listeners.size === 0) this.stopWatching();
    };
  }

  private startWatching(): void {
    if (this.watching) return;
    const stop = new AbortController();
    let events: AsyncIterable<{ data: Uint8Array }>;
    try {
      events = this.bus.watch(approvalEventsStream.subjectFor('decided'), { signal: stop.signal });
    } catch {
      return;
    }
    this.watching = stop;
    void this.deliver(events, stop);
  }

  private async deliver(events: AsyncIterable<{ data: Uint8Array }>, stop: AbortController): Promise<void> {
    try {
      for await (const message of events) {
        const approval = settledApprovalIn(message.data);
        // A copy: a listener usually stops listening when it wakes.
        if (approval) for (const onDecided of [...(this.listeners.get(approval.id) ?? [])]) onDecided(approval);
      }
    } catch {
      // The watch broke (bus gone); held calls carry on polling and the next held call watches again.
    } finally {
      if (this.watching === stop) this.watching = undefined;
    }
  }

  private stopWatching(): void {
    this.watching?.abort();
    this.watching = undefined;
  }
}

function settledApprovalIn(data: Uint8Array): Approval | undefined {
  let event: ApprovalEvent;
  try {
    event = ApprovalEvent.decode(data);
  } catch {
    return undefined;
  }
  return event.approval && isSettled(event.approval) ? event.approval : undefined;
}

/** Whether an approval has its final answer for the held call. */
export function isSettled(approval: Approval): boolean {
  return approval.status !== ApprovalStatus.APPROVAL_STATUS_PENDING && approval.status !== ApprovalStatus.APPROVAL_STATUS_UNSPECIFIED;
}

const watchesByBus = new WeakMap<Pick<Bus, 'watch'>, DecisionWatch>();

/** The one DecisionWatch of a bus connection; an edge has one connection, so one watch serves all its held calls. */
export function decisionWatchOf(bus: Pick<Bus, 'watch'>): DecisionWatch {
  let watch = watchesByBus.get(bus);
  if (!watch) {
    watch = new DecisionWatch(bus);
    watchesByBus.set(bus, watch);
  }
  return watch;
}
