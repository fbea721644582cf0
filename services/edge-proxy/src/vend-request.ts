import { ApprovalStatus, type Approval, type DecideResponse, type Principal, type VendRequest } from '@airlock/contracts';

export interface CredentialNeed {
  principal: Principal;
  /** The role the Airlock session acts as. */
  roleArn: string;
  /** The region the forwarded call is signed for. */
  region: string;
  /** When the client's Airlock session ends. */
  sessionExpiresAt: Date;
  decision: DecideResponse;
  /** The approval that released the call, for an approved call. */
  approval?: Approval | undefined;
}

/**
 * What the edge asks credential vending for one call: the session's role, the scope and lifetime that policy's
 * obligations name, and the instant the credentials must stop working: the earliest of the client's Airlock session
 * end and, for an approved call, the end of the approval's grant window. Vending never lets them live past it.
 */
export function vendRequestFor(need: CredentialNeed): VendRequest {
  const { approval, decision } = need;
  const approved = approval?.status === ApprovalStatus.APPROVAL_STATUS_APPROVED ? approval : undefined;
  const ends = [need.sessionExpiresAt.getTime(), ...(approved && approved.grantExpiresAtMs > 0 ? [approved.grantExpiresAtMs] : [])];
  return {
    principal: need.principal,
    roleArn: need.roleArn,
    sessionPolicy: decision.obligations?.sessionPolicy ?? '',
    maxDurationSeconds: decision.obligations?.maxCredentialSeconds ?? 0,
    approvalId: approved?.id ?? '',
    region: need.region,
    notAfterMs: Math.min(...ends),
  };
}
