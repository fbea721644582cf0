import { describe, expect, it } from 'vitest';
import { ApprovalStatus, type Approval } from '@airlock/contracts';
import { escapeMrkdwn, progressOf, renderApproval } from './render.js';

const issuer = 'https://idp.example.com';
const base: Approval = {
  id: 'abc123',
  status: ApprovalStatus.APPROVAL_STATUS_PENDING,
  requester: { subject: 'alice', issuer, groups: [], sessionId: 's', name: 'Alice <@U999>' },
  call: {
    service: 'ec2',
    operation: 'TerminateInstances',
    action: 'ec2:TerminateInstances',
    resources: ['arn:aws:ec2:eu-west-1:1:instance/i-1'],
    region: 'eu-west-1',
    roleArn: 'arn:aws:iam::1:role/agent',
    parameters: { 'InstanceId.1': 'i-1', Note: '```<!channel>' },
  },
  fingerprint: 'fp',
  requirement: { approverGroups: ['managers'], quorum: 2, pendingTtlSeconds: 900, grantWindowSeconds: 600 },
  votes: [],
  policyId: 'p1',
  reason: 'risky',
  createdAtMs: 1_700_000_000_000,
  expiresAtMs: 1_700_000_900_000,
  grantExpiresAtMs: 0,
};
const maria = { subject: 'maria', issuer, groups: ['managers'], sessionId: '', name: 'Maria' };

describe('renderApproval', () => {
  it('shows a pending request with buttons and escapes request data', () => {
    const { text, blocks } = renderApproval(base);
    const json = JSON.stringify(blocks);
    expect(text).toContain('ec2:TerminateInstances');
    expect(json).toContain('Alice &lt;@U999&gt;');
    expect(json).not.toContain('<!channel>');
    expect(json).not.toContain('<@U999>');
    expect(json).toContain('airlock_approve');
    expect(json).toContain('(2 needed)');
  });

  it('shows partial approvals, then the outcome without buttons', () => {
    const partial = { ...base, votes: [{ voter: maria, approve: true, reason: '', atMs: 1 }] };
    expect(JSON.stringify(renderApproval(partial).blocks)).toContain('(1 of 2)');
    const denied = { ...base, status: ApprovalStatus.APPROVAL_STATUS_DENIED, votes: [{ voter: maria, approve: false, reason: 'freeze', atMs: 1 }] };
    const json = JSON.stringify(renderApproval(denied).blocks);
    expect(json).toContain('*Denied* by Maria (maria) @ https://idp.example.com: freeze');
    expect(json).not.toContain('airlock_approve');
    expect(JSON.stringify(renderApproval({ ...base, status: ApprovalStatus.APPROVAL_STATUS_EXPIRED }).blocks)).toContain('*Expired*');
  });

  it('orders progress so a stale rendering never wins', () => {
    const partial = { ...base, votes: [{ voter: maria, approve: true, reason: '', atMs: 1 }] };
    expect(progressOf(base)).toBeLessThan(progressOf(partial));
    expect(progressOf(partial)).toBeLessThan(progressOf({ ...partial, status: ApprovalStatus.APPROVAL_STATUS_APPROVED }));
  });

  it('escapes only what Slack treats as control characters', () => {
    expect(escapeMrkdwn('a & <b> *c*')).toBe('a &amp; &lt;b&gt; *c*');
  });
});
