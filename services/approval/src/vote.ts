import { ApprovalStatus, type Approval, type VoteRequest } from '@airlock/contracts';
import { AirlockError } from '@airlock/errors';
import { announceLater, type ApprovalContext } from './context.js';
import { principalKey } from './keys.js';
import { readApproval } from './read.js';
import { isOverdue } from './record.js';

/**
 * Records one vote. A deny decides DENIED at once; approvals decide APPROVED when they reach the quorum, opening the
 * grant window. The checks run again on every compare-and-set retry, against the record as it is then, so concurrent
 * voters can neither vote twice nor push the count past a decision.
 */
export async function vote(context: ApprovalContext, request: VoteRequest): Promise<Approval> {
  const voter = request.voter;
  if (!voter || voter.issuer === '' || voter.subject === '') {
    throw new AirlockError('InvalidRequest', 'A vote needs a voter with an issuer and a subject.');
  }
  if (request.approvalId === '') throw new AirlockError('InvalidRequest', 'A vote needs the approval id.');
  // Reading first writes down an expiry that is due, so the approval's status is right for everyone else too.
  await readApproval(context, request.approvalId);
  const voterKey = principalKey(voter);

  const { before, after } = await context.store.update(request.approvalId, (current) => {
    const now = context.now();
    checkVoter(current, voterKey, voter.groups);
    if (current.status !== ApprovalStatus.APPROVAL_STATUS_PENDING || isOverdue(current, now)) {
      throw new AirlockError('Conflict', `Approval ${current.id} is ${statusName(current, now)}; it takes no more votes.`, {
        details: { approvalId: current.id },
      });
    }
    if (current.votes.some((cast) => cast.voter && principalKey(cast.voter) === voterKey)) {
      throw new AirlockError('Conflict', `${voter.subject} has already voted on approval ${current.id}.`, { details: { approvalId: current.id } });
    }
    const votes = [...current.votes, { voter, approve: request.approve, reason: request.reason, atMs: now }];
    const quorum = current.requirement?.quorum || 1;
    if (!request.approve) return { ...current, votes, status: ApprovalStatus.APPROVAL_STATUS_DENIED };
    if (votes.filter((cast) => cast.approve).length >= quorum) {
      const grantMs = (current.requirement?.grantWindowSeconds ?? 0) * 1000;
      return { ...current, votes, status: ApprovalStatus.APPROVAL_STATUS_APPROVED, grantExpiresAtMs: now + grantMs };
    }
    return { ...current, votes };
  });

  context.logger.info({ approvalId: after.id, voter: voterKey, approve: request.approve, status: ApprovalStatus[after.status] }, 'approval vote');
  if (before.status !== after.status) await announceLater(context, after);
  return after;
}

function checkVoter(approval: Approval, voterKey: string, groups: readonly string[]): void {
  if (approval.requester && principalKey(approval.requester) === voterKey) {
    throw new AirlockError('AccessDenied', 'The requester cannot approve their own request.', { details: { approvalId: approval.id } });
  }
  const approverGroups = approval.requirement?.approverGroups ?? [];
  if (!groups.some((group) => approverGroups.includes(group))) {
    throw new AirlockError('AccessDenied', `Only members of ${approverGroups.join(' or ')} may vote on approval ${approval.id}.`, {
      details: { approvalId: approval.id },
    });
  }
}

function statusName(approval: Approval, now: number): string {
  if (isOverdue(approval, now)) return 'expired';
  switch (approval.status) {
    case ApprovalStatus.APPROVAL_STATUS_APPROVED:
      return 'already approved';
    case ApprovalStatus.APPROVAL_STATUS_DENIED:
      return 'already denied';
    case ApprovalStatus.APPROVAL_STATUS_EXPIRED:
      return 'expired';
    default:
      return 'not pending';
  }
}
