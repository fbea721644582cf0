import { randomBytes } from 'node:crypto';
import { ApprovalStatus, type Approval, type RequestApprovalRequest } from '@airlock/contracts';
import { AirlockError } from '@airlock/errors';
import { announce, type ApprovalContext } from './context.js';
import { principalKey } from './keys.js';
import { isReusable } from './record.js';
import { settle } from './read.js';
import { normalizeRequirement } from './requirement.js';

/** Races lost to a concurrent request for the same (requester, fingerprint) before giving up. */
const maxAttempts = 8;

/**
 * Opens an approval for one request of one requester, or returns the one already open: asking again while it is
 * pending, or while its grant is valid, gives the same approval. A denied or expired approval, or a used-up grant,
 * makes room for a new request.
 */
export async function requestApproval(context: ApprovalContext, request: RequestApprovalRequest): Promise<Approval> {
  const requester = request.requester;
  if (!requester || requester.issuer === '' || requester.subject === '') {
    throw new AirlockError('InvalidRequest', 'An approval request needs a requester with an issuer and a subject.');
  }
  if (request.fingerprint === '') throw new AirlockError('InvalidRequest', 'An approval request needs the fingerprint of the request it approves.');
  const requirement = normalizeRequirement(request.requirement);
  const requesterKey = principalKey(requester);

  for (let attempt = 0; attempt < maxAttempts; attempt++) {
    const currentId = await context.store.currentId(requesterKey, request.fingerprint);
    const current = currentId === null ? undefined : await context.store.get(currentId);
    if (current) {
      const settled = await settle(context, current);
      if (isReusable(settled, context.now())) {
        // The first ask may have failed to tell approvers; telling them is what this call is for, so failures surface.
        await announce(context, settled);
        return settled;
      }
    }
    const now = context.now();
    const approval: Approval = {
      // Hex: people paste the id into `airlock approvals approve <id>`, and a base64url id may start with '-'.
      id: randomBytes(16).toString('hex'),
      status: ApprovalStatus.APPROVAL_STATUS_PENDING,
      requester,
      call: request.call,
      fingerprint: request.fingerprint,
      requirement,
      votes: [],
      policyId: request.policyId,
      reason: request.reason,
      createdAtMs: now,
      expiresAtMs: now + requirement.pendingTtlSeconds * 1000,
      grantExpiresAtMs: 0,
    };
    if (!(await context.store.create(approval))) continue;
    // The index decides which approval is current; a concurrent request that got there first wins and ours goes.
    if (await context.store.makeCurrent(requesterKey, approval, currentId)) {
      context.logger.info({ approvalId: approval.id, policyId: approval.policyId, groups: requirement.approverGroups }, 'approval requested');
      await announce(context, approval);
      return approval;
    }
    await context.store.remove(approval.id);
  }
  throw new AirlockError('Conflict', 'Too many concurrent approval requests for the same call; try again.');
}
