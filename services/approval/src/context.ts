import type { Approval } from '@airlock/contracts';
import type { Logger } from '@airlock/logging';
import type { ApprovalStore } from './approval-store.js';
import { eventFor, type ApprovalEvents } from './events.js';

/** What the approval operations share. */
export interface ApprovalContext {
  readonly store: ApprovalStore;
  readonly events: ApprovalEvents;
  readonly now: () => number;
  readonly logger: Logger;
}

/**
 * Makes sure the event for the approval's current status went out. The caller decides whether a failure matters:
 * a new request must reach approvers, a read can leave the retry to the next read.
 */
export async function announce(context: ApprovalContext, approval: Approval): Promise<void> {
  await context.events.publishOnce(eventFor(approval.status), approval, context.store.ttlOf(approval));
}

export async function announceLater(context: ApprovalContext, approval: Approval): Promise<void> {
  try {
    await announce(context, approval);
  } catch (error) {
    context.logger.warn({ err: error, approvalId: approval.id }, 'approval event not published yet; will retry on the next read');
  }
}
