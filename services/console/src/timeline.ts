import { ApprovalStatus, Decision, type Approval, type Principal, type SessionEvent } from '@airlock/contracts';
import type { ApprovalStatusName, DecisionName, PrincipalView, TimelineEntry } from './views.js';

const decisionNames: Partial<Record<Decision, DecisionName>> = {
  [Decision.DECISION_ALLOW]: 'allow',
  [Decision.DECISION_DENY]: 'deny',
  [Decision.DECISION_APPROVAL_REQUIRED]: 'approval-required',
};

const approvalStatusNames: Partial<Record<ApprovalStatus, ApprovalStatusName>> = {
  [ApprovalStatus.APPROVAL_STATUS_PENDING]: 'pending',
  [ApprovalStatus.APPROVAL_STATUS_APPROVED]: 'approved',
  [ApprovalStatus.APPROVAL_STATUS_DENIED]: 'denied',
  [ApprovalStatus.APPROVAL_STATUS_EXPIRED]: 'expired',
};

/** A recorded session as a timeline people read, in the order the recorder returned it (its recording order). */
export function toTimeline(events: readonly SessionEvent[]): TimelineEntry[] {
  return events.flatMap((event): TimelineEntry[] => {
    const at = new Date(event.atMs).toISOString();
    const { edgeId } = event;
    const body = event.body;
    switch (body?.$case) {
      case 'started':
        return [
          {
            kind: 'started',
            at,
            edgeId,
            principal: principalView(body.value.principal),
            roleArn: body.value.roleArn,
            expiresAt: body.value.expiresAtMs ? new Date(body.value.expiresAtMs).toISOString() : null,
          },
        ];
      case 'requested':
        return [{ kind: 'requested', at, edgeId, requestId: body.value.requestId, action: body.value.call?.action ?? '', resources: body.value.call?.resources ?? [] }];
      case 'ended':
        return [{ kind: 'ended', at, edgeId, reason: body.value.reason }];
      case 'call': {
        const recorded = body.value;
        return [
          {
            kind: 'call',
            at,
            edgeId,
            requestId: recorded.requestId,
            principal: principalView(recorded.principal),
            action: recorded.call?.action ?? '',
            region: recorded.call?.region ?? '',
            resources: recorded.call?.resources ?? [],
            parameters: recorded.call?.parameters ?? {},
            decision: decisionNames[recorded.decision] ?? 'unspecified',
            policyIds: recorded.policyIds,
            reason: recorded.reason,
            approval: recorded.approvalId || recorded.approval ? approvalView(recorded.approvalId, recorded.approval) : null,
            upstreamStatus: recorded.upstreamStatus,
            awsRequestId: recorded.awsRequestId,
            errorCode: recorded.errorCode,
            durationMs: recorded.durationMs,
            bytesIn: recorded.bytesIn,
            bytesOut: recorded.bytesOut,
            masked: recorded.masked.map(({ kind, count, rule, location }) => ({ kind, count, rule, location })),
            unmaskedReason: recorded.unmaskedReason,
          },
        ];
      }
      default:
        return [];
    }
  });
}

function principalView(principal: Principal | undefined): PrincipalView | null {
  if (!principal) return null;
  return { subject: principal.subject, issuer: principal.issuer, name: principal.name, groups: principal.groups };
}

function approvalView(approvalId: string, approval: Approval | undefined): NonNullable<Extract<TimelineEntry, { kind: 'call' }>['approval']> {
  return {
    id: approval?.id || approvalId,
    status: approval ? (approvalStatusNames[approval.status] ?? 'unspecified') : 'unspecified',
    votes: (approval?.votes ?? []).map((vote) => ({
      voter: principalView(vote.voter),
      approve: vote.approve,
      reason: vote.reason,
      at: new Date(vote.atMs).toISOString(),
    })),
  };
}
