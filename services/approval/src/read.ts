import { ApprovalStatus, type Approval } from '@airlock/contracts';
import { notFound } from './approval-store.js';
import { announceLater, type ApprovalContext } from './context.js';
import { isOverdue } from './record.js';

/**
 * Reads an approval as it stands now: a pending one past its deadline is written down as EXPIRED first. Only the
 * writer whose compare-and-set made that change publishes the "expired" event.
 */
export async function readApproval(context: ApprovalContext, id: string): Promise<Approval> {
  const approval = await context.store.get(id);
  if (!approval) throw notFound(id);
  return settle(context, approval);
}

export async function settle(context: ApprovalContext, approval: Approval): Promise<Approval> {
  if (!isOverdue(approval, context.now())) {
    await announceLater(context, approval);
    return approval;
  }
  const { before, after } = await context.store.update(approval.id, (current) =>
    isOverdue(current, context.now()) ? { ...current, status: ApprovalStatus.APPROVAL_STATUS_EXPIRED } : undefined,
  );
  if (before.status !== after.status) context.logger.info({ approvalId: after.id }, 'approval expired');
  await announceLater(context, after);
  return after;
}

/** Every approval, newest first, optionally only those in `statuses`. */
export async function listApprovals(context: ApprovalContext, statuses: readonly ApprovalStatus[], limit: number): Promise<Approval[]> {
  const found: Approval[] = [];
  for await (const stored of context.store.list()) {
    const approval = await settle(context, stored);
    if (statuses.length === 0 || statuses.includes(approval.status)) found.push(approval);
  }
  found.sort((a, b) => b.createdAtMs - a.createdAtMs || (a.id < b.id ? -1 : 1));
  return found.slice(0, limit);
}
