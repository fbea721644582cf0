import { describe, expect, it } from 'vitest';
import { renderApproval, renderApprovals, type ApprovalSummary } from './approvals.js';

const approval: ApprovalSummary = {
  id: 'abc123',
  status: 'pending',
  requester: { subject: 'agent-7', issuer: 'https://idp.example.com', name: null, groups: ['agents'], sessionId: 'sess-1' },
  action: 'ec2:TerminateInstances',
  resources: ['arn:aws:ec2:eu-west-1:123456789012:instance/i-1'],
  region: 'eu-west-1',
  roleArn: 'arn:aws:iam::123456789012:role/agent',
  parameters: { InstanceId: 'i-1' },
  approverGroups: ['managers'],
  quorum: 1,
  policyId: 'ec2-terminate',
  reason: 'needs a manager',
  votes: [],
  createdAt: '2025-01-01T12:00:00.000Z',
  expiresAt: '2025-01-01T12:15:00.000Z',
  grantExpiresAt: null,
};

describe('airlock approvals output', () => {
  it('lists approvals as a table with votes against the quorum', () => {
    const approved: ApprovalSummary = {
      ...approval,
      id: 'def456',
      status: 'approved',
      requester: { ...approval.requester, name: 'Agent Seven' },
      votes: [{ subject: 'maria', issuer: 'https://idp.example.com', name: 'Maria', approve: true, reason: null, at: '2025-01-01T12:01:00.000Z' }],
      grantExpiresAt: '2025-01-01T12:11:00.000Z',
    };
    expect(renderApprovals([approval, approved])).toBe(
      [
        'APPROVAL  STATUS    REQUESTER              ACTION                  RESOURCES                                        APPROVERS  VOTES  CREATED               UNTIL',
        'abc123    pending   agent-7                ec2:TerminateInstances  arn:aws:ec2:eu-west-1:123456789012:instance/i-1  managers   0/1    2025-01-01 12:00:00Z  2025-01-01 12:15:00Z',
        'def456    approved  Agent Seven (agent-7)  ec2:TerminateInstances  arn:aws:ec2:eu-west-1:123456789012:instance/i-1  managers   1/1    2025-01-01 12:00:00Z  2025-01-01 12:11:00Z',
        '',
      ].join('\n'),
    );
    expect(renderApprovals([])).toBe('No approvals.\n');
  });

  it('shows one approval with who asked, for what, why, and every vote with its reason', () => {
    const denied: ApprovalSummary = {
      ...approval,
      status: 'denied',
      votes: [{ subject: 'maria', issuer: 'https://idp.example.com', name: 'Maria', approve: false, reason: 'not during the freeze', at: '2025-01-01T12:02:00.000Z' }],
    };
    const text = renderApproval(denied);
    expect(text).toContain('Approval:      abc123\n');
    expect(text).toContain('Status:        denied\n');
    expect(text).toContain('Requester:     agent-7 from https://idp.example.com, session sess-1\n');
    expect(text).toContain('Parameters:    InstanceId=i-1\n');
    expect(text).toContain('Why:           needs a manager (policy ec2-terminate)\n');
    expect(text).toContain('  denied by Maria (maria) from https://idp.example.com at 2025-01-01 12:02:00Z: not during the freeze\n');
    expect(renderApproval(approval)).toContain('Votes: none yet');
  });
});
