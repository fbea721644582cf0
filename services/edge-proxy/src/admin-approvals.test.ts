import { describe, expect, it } from 'vitest';
import { ApprovalStatus, type Approval, type VoteRequest } from '@airlock/contracts';
import { createLogger } from '@airlock/logging';
import { approvalView, getApproval, listApprovals, voteOnApproval, type ApprovalCaller } from './admin-approvals.js';
import type { EdgeDependencies } from './dependencies.js';

const approval: Approval = {
  id: 'a-1',
  status: ApprovalStatus.APPROVAL_STATUS_PENDING,
  requester: { subject: 'agent-7', issuer: 'https://agents.example', groups: ['agents'], sessionId: 's-1', name: '' },
  call: { service: 's3', operation: 'DeleteBucket', action: 's3:DeleteBucket', resources: ['arn:aws:s3:::b'], region: 'us-east-1', roleArn: 'arn:aws:iam::123456789012:role/agent', parameters: {} },
  fingerprint: 'f',
  requirement: { approverGroups: ['managers'], quorum: 1, pendingTtlSeconds: 900, grantWindowSeconds: 600 },
  votes: [],
  policyId: 'p',
  reason: 'needs a manager',
  createdAtMs: Date.parse('2025-01-01T12:00:00Z'),
  expiresAtMs: Date.parse('2025-01-01T12:15:00Z'),
  grantExpiresAtMs: 0,
};

function caller(subject: string, groups: string[], admin = false, issuer = 'https://people.example'): ApprovalCaller {
  return { identity: { subject, issuer, groups, name: `Name ${subject}` } as ApprovalCaller['identity'], admin };
}

function deps(votes: VoteRequest[] = []): EdgeDependencies {
  return {
    settings: { dependencyTimeoutMs: 1000 },
    logger: createLogger({ service: 'test', level: 'silent' }),
    approval: {
      listApprovals: async () => ({ approvals: [approval] }),
      getApproval: async () => ({ approval }),
      vote: async (request: VoteRequest) => {
        votes.push(request);
        return { approval: { ...approval, votes: [{ voter: request.voter, approve: request.approve, reason: request.reason, atMs: 0 }] } };
      },
    },
  } as unknown as EdgeDependencies;
}

describe('admin API approvals', () => {
  it('shows an approval to admins, its requester and its approver groups only', async () => {
    const query = new URLSearchParams('status=pending');
    expect((await listApprovals(caller('maria', ['managers']), query, deps())).approvals).toHaveLength(1);
    expect((await listApprovals(caller('root', [], true), query, deps())).approvals).toHaveLength(1);
    expect((await listApprovals(caller('agent-7', [], false, 'https://agents.example'), query, deps())).approvals).toHaveLength(1);
    expect((await listApprovals(caller('eve', ['engineers']), query, deps())).approvals).toHaveLength(0);
    await expect(getApproval(caller('eve', ['engineers']), 'a-1', deps())).rejects.toMatchObject({ code: 'AccessDenied' });
    await expect(listApprovals(caller('maria', ['managers']), new URLSearchParams('status=maybe'), deps())).rejects.toMatchObject({ code: 'InvalidRequest' });
  });

  it('votes as the token principal, and a denial needs a reason', async () => {
    const votes: VoteRequest[] = [];
    const answer = await voteOnApproval(caller('maria', ['managers']), 'a-1', true, { reason: ' ok ' }, deps(votes));
    expect(votes).toEqual([
      { approvalId: 'a-1', approve: true, reason: 'ok', voter: { subject: 'maria', issuer: 'https://people.example', groups: ['managers'], sessionId: '', name: 'Name maria' } },
    ]);
    expect(answer.approval.votes).toEqual([{ subject: 'maria', issuer: 'https://people.example', name: 'Name maria', approve: true, reason: 'ok', at: '1970-01-01T00:00:00.000Z' }]);
    await expect(voteOnApproval(caller('maria', ['managers']), 'a-1', false, {}, deps())).rejects.toMatchObject({ code: 'InvalidRequest' });
    await expect(voteOnApproval(caller('maria', ['managers']), '../x', true, {}, deps())).rejects.toMatchObject({ code: 'InvalidRequest' });
  });

  it('renders times as ISO text and absent values as null', () => {
    expect(approvalView(approval)).toMatchObject({
      status: 'pending',
      requester: { subject: 'agent-7', name: null, sessionId: 's-1' },
      action: 's3:DeleteBucket',
      createdAt: '2025-01-01T12:00:00.000Z',
      expiresAt: '2025-01-01T12:15:00.000Z',
      grantExpiresAt: null,
    });
  });
});
