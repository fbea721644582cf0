import { ApprovalEvent, ApprovalStatus, approvalEventsStream, type Approval } from '@airlock/contracts';
import { toAirlockError } from '@airlock/errors';
import type { Bus } from '@airlock/bus';
import type { StateStore } from '@airlock/state';
import { publishedKey } from './keys.js';

export type ApprovalEventKind = 'requested' | 'decided' | 'expired';

/**
 * Publishes approval events at most once each in effect: the event id (and bus msgId) is `<approval id>.<kind>`, so the
 * bus drops a repeat within its duplicate window, and a marker in the state store stops repeats after it. A publish
 * that failed leaves no marker and is tried again the next time the approval is read.
 */
export class ApprovalEvents {
  private streamReady: Promise<void> | undefined;

  constructor(
    private readonly bus: Bus,
    private readonly state: StateStore,
    private readonly now: () => number,
  ) {}

  ensureStream(): Promise<void> {
    this.streamReady ??= this.bus
      .ensureStream({ name: approvalEventsStream.name, subjects: [...approvalEventsStream.subjects] })
      .catch((error: unknown) => {
        this.streamReady = undefined;
        throw error;
      });
    return this.streamReady;
  }

  async publishOnce(kind: ApprovalEventKind, approval: Approval, ttlMs: number): Promise<void> {
    try {
      const marker = publishedKey(approval.id, kind);
      if ((await this.state.get(marker)) !== null) return;
      await this.ensureStream();
      const eventId = `${approval.id}.${kind}`;
      const event: ApprovalEvent = { eventId, kind, approval, atMs: this.now() };
      await this.bus.publish(approvalEventsStream.subjectFor(kind), ApprovalEvent.encode(event).finish(), { msgId: eventId });
      await this.state.set(marker, '1', { ttlMs });
    } catch (error) {
      throw toAirlockError(error, 'DependencyUnavailable', 'Approval events could not be published; approvers may not have been told.');
    }
  }
}

/** The event an approval's current status stands for. */
export function eventFor(status: ApprovalStatus): ApprovalEventKind {
  switch (status) {
    case ApprovalStatus.APPROVAL_STATUS_APPROVED:
    case ApprovalStatus.APPROVAL_STATUS_DENIED:
      return 'decided';
    case ApprovalStatus.APPROVAL_STATUS_EXPIRED:
      return 'expired';
    default:
      return 'requested';
  }
}
