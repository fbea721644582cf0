import { describe, expect, it } from 'vitest';
import { ApprovalStatus, Decision, type CallRecorded, type SessionEvent } from '@airlock/contracts';
import { toTimeline } from './timeline.js';

const agent = { subject: 'agent-7', issuer: 'https://idp', groups: ['agents'], sessionId: 's1', name: '' };
const maria = { subject: 'maria', issuer: 'https://people', groups: ['managers'], sessionId: '', name: 'Maria' };

const event = (atMs: number, body: SessionEvent['body']): SessionEvent => ({ eventId: `e${atMs}`, sessionId: 's1', atMs, edgeId: 'edge-1', body });
const call = (recorded: Partial<CallRecorded>): SessionEvent['body'] => ({
  $case: 'call',
  value: {
    principal: undefined,
    call: undefined,
    decision: Decision.DECISION_UNSPECIFIED,
    policyIds: [],
    reason: '',
    approvalId: '',
    upstreamStatus: 0,
    awsRequestId: '',
    errorCode: '',
    durationMs: 0,
    bytesIn: 0,
    bytesOut: 0,
    masked: [],
    requestId: '',
    approval: undefined,
    unmaskedReason: '',
    ...recorded,
  },
});

describe('toTimeline', () => {
  it('turns recorded events into entries people read, in recording order', () => {
    const timeline = toTimeline([
      event(1_000, { $case: 'started', value: { principal: agent, roleArn: 'arn:aws:iam::1:role/agent', expiresAtMs: 3_600_000, claimsJson: '{}' } }),
      event(
        2_000,
        call({
          principal: agent,
          call: { service: 's3', operation: 'DeleteBucket', action: 's3:DeleteBucket', resources: ['arn:aws:s3:::b'], region: 'us-east-1', roleArn: 'r', parameters: { Bucket: 'b' } },
          decision: Decision.DECISION_APPROVAL_REQUIRED,
          policyIds: ['gate'],
          reason: 'needs a manager',
          approvalId: 'ap1',
          upstreamStatus: 204,
          awsRequestId: 'req',
          errorCode: '',
          durationMs: 12,
          bytesIn: 0,
          bytesOut: 0,
          masked: [{ kind: 'aws-secret-key', count: 2, rule: 'detector:aws-secret-key', location: 'Parameter.Value' }],
          requestId: 'r1',
          approval: {
            id: 'ap1',
            status: ApprovalStatus.APPROVAL_STATUS_APPROVED,
            requester: agent,
            call: undefined,
            fingerprint: 'fp',
            requirement: undefined,
            votes: [{ voter: maria, approve: true, reason: 'ticket 7', atMs: 1_500 }],
            policyId: 'gate',
            reason: '',
            createdAtMs: 1_000,
            expiresAtMs: 0,
            grantExpiresAtMs: 0,
          },
        }),
      ),
      event(3_000, { $case: 'ended', value: { reason: 'revoked' } }),
      event(4_000, undefined),
    ]);

    expect(timeline).toEqual([
      {
        kind: 'started',
        at: '1970-01-01T00:00:01.000Z',
        edgeId: 'edge-1',
        principal: { subject: 'agent-7', issuer: 'https://idp', name: '', groups: ['agents'] },
        roleArn: 'arn:aws:iam::1:role/agent',
        expiresAt: '1970-01-01T01:00:00.000Z',
      },
      {
        kind: 'call',
        at: '1970-01-01T00:00:02.000Z',
        edgeId: 'edge-1',
        requestId: 'r1',
        principal: { subject: 'agent-7', issuer: 'https://idp', name: '', groups: ['agents'] },
        action: 's3:DeleteBucket',
        region: 'us-east-1',
        resources: ['arn:aws:s3:::b'],
        parameters: { Bucket: 'b' },
        decision: 'approval-required',
        policyIds: ['gate'],
        reason: 'needs a manager',
        approval: {
          id: 'ap1',
          status: 'approved',
          votes: [{ voter: { subject: 'maria', issuer: 'https://people', name: 'Maria', groups: ['managers'] }, approve: true, reason: 'ticket 7', at: '1970-01-01T00:00:01.500Z' }],
        },
        upstreamStatus: 204,
        awsRequestId: 'req',
        errorCode: '',
        durationMs: 12,
        bytesIn: 0,
        bytesOut: 0,
        masked: [{ kind: 'aws-secret-key', count: 2, rule: 'detector:aws-secret-key', location: 'Parameter.Value' }],
        unmaskedReason: '',
      },
      { kind: 'ended', at: '1970-01-01T00:00:03.000Z', edgeId: 'edge-1', reason: 'revoked' },
    ]);
  });

  it('names an approval known only by its id, and a call without one has none', () => {
    const entry = (approvalId: string) => toTimeline([event(1, call({ decision: Decision.DECISION_DENY, approvalId, errorCode: 'AccessDenied' }))])[0];
    expect(entry('ap9')).toMatchObject({ decision: 'deny', action: '', principal: null, approval: { id: 'ap9', status: 'unspecified', votes: [] } });
    expect(entry('')).toMatchObject({ approval: null });
  });
});
