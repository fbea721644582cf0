import { Approval, ApprovalStatus } from '@airlock/contracts';

/** Records are stored as the contract's canonical JSON, so that any service or operator can read them. */
export function encodeApproval(approval: Approval): string {
  return JSON.stringify(Approval.toJSON(approval));
}

export function decodeApproval(raw: string): Approval {
  return Approval.fromJSON(JSON.parse(raw));
}

/** A pending approval past its deadline is expired, whether or not anyone has written that down yet. */
export function isOverdue(approval: Approval, nowMs: number): boolean {
  return approval.status === ApprovalStatus.APPROVAL_STATUS_PENDING && nowMs >= approval.expiresAtMs;
}

/** Whether asking again for the same request should return this approval rather than open a new one. */
export function isReusable(approval: Approval, nowMs: number): boolean {
  if (approval.status === ApprovalStatus.APPROVAL_STATUS_PENDING) return !isOverdue(approval, nowMs);
  return approval.status === ApprovalStatus.APPROVAL_STATUS_APPROVED && nowMs < approval.grantExpiresAtMs;
}

/**
 * When a record may be dropped: after the longest possible grant (approved at the last pending moment) plus
 * `retentionMs` for people and tools that look approvals up afterwards. The recorder keeps the lasting evidence.
 */
export function retainUntil(approval: Approval, retentionMs: number): number {
  const requirement = approval.requirement;
  const pendingMs = (requirement?.pendingTtlSeconds ?? 0) * 1000;
  const grantMs = (requirement?.grantWindowSeconds ?? 0) * 1000;
  return Math.max(approval.expiresAtMs, approval.createdAtMs + pendingMs) + grantMs + retentionMs;
}
