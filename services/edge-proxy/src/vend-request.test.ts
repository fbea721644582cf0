import { describe, expect, it } from 'vitest';
import { Approval, ApprovalStatus, DecideResponse, Decision, RecordingLevel } from '@airlock/contracts';
import { vendRequestFor } from './vend-request.js';

const principal = { subject: 'alice', issuer: 'https://idp.example', groups: ['dev'], sessionId: 's-1', name: 'Alice' };
const roleArn = 'arn:aws:iam::123456789012:role/agent';
const sessionExpiresAt = new Date('2026-11-26T11:00:00Z');
const sessionPolicy = '{"Version":"2012-10-17","Statement":[]}';

const decision = (verdict: Decision): DecideResponse => ({
  ...DecideResponse.fromJSON({}),
  decision: verdict,
  obligations: { maskingProfile: 'default', recording: RecordingLevel.RECORDING_LEVEL_FULL, sessionPolicy, maxCredentialSeconds: 900 },
});

const approval = (status: ApprovalStatus, grantExpiresAtMs: number): Approval => Approval.fromJSON({ id: 'apr-1', status, fingerprint: 'f', grantExpiresAtMs });

describe('vendRequestFor', () => {
  it('bounds an allowed call by the session end and passes the obligations on', () => {
    expect(vendRequestFor({ principal, roleArn, region: 'eu-west-1', sessionExpiresAt, decision: decision(Decision.DECISION_ALLOW) })).toEqual({
      principal,
      roleArn,
      sessionPolicy,
      maxDurationSeconds: 900,
      approvalId: '',
      region: 'eu-west-1',
      notAfterMs: sessionExpiresAt.getTime(),
    });
  });

  it('bounds an approved call by the earlier of the grant window end and the session end', () => {
    const need = { principal, roleArn, region: 'us-east-1', sessionExpiresAt, decision: decision(Decision.DECISION_APPROVAL_REQUIRED) };
    const windowEnd = Date.parse('2026-11-26T10:15:00Z');
    expect(vendRequestFor({ ...need, approval: approval(ApprovalStatus.APPROVAL_STATUS_APPROVED, windowEnd) })).toMatchObject({ approvalId: 'apr-1', notAfterMs: windowEnd });
    const lateWindow = Date.parse('2026-11-26T12:00:00Z');
    expect(vendRequestFor({ ...need, approval: approval(ApprovalStatus.APPROVAL_STATUS_APPROVED, lateWindow) })).toMatchObject({
      approvalId: 'apr-1',
      notAfterMs: sessionExpiresAt.getTime(),
    });
  });

  it('never names an approval that is not approved', () => {
    const need = { principal, roleArn, region: 'us-east-1', sessionExpiresAt, decision: decision(Decision.DECISION_ALLOW) };
    expect(vendRequestFor({ ...need, approval: approval(ApprovalStatus.APPROVAL_STATUS_PENDING, 0) })).toMatchObject({ approvalId: '', notAfterMs: sessionExpiresAt.getTime() });
  });
});
