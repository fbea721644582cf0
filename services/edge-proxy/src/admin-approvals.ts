import { ApprovalStatus, type Approval, type Principal } from '@airlock/contracts';
import { AirlockError } from '@airlock/errors';
import type { VerifiedIdentity } from '@airlock/identity';
import type { EdgeDependencies } from './dependencies.js';

/** An approval as the admin API shows it (docs/admin-api.md). */
export interface ApprovalView {
  id: string;
  status: ApprovalStatusName;
  requester: { subject: string; issuer: string; name: string | null; groups: string[]; sessionId: string | null };
  action: string;
  service: string;
  operation: string;
  resources: string[];
  region: string;
  roleArn: string;
  parameters: Record<string, string>;
  approverGroups: string[];
  quorum: number;
  policyId: string | null;
  /** Why policy asked for approval. */
  reason: string | null;
  votes: ApprovalVoteView[];
  createdAt: string;
  /** Until when it may be decided; pending after that is expired. */
  expiresAt: string;
  /** Once approved: until when the requester may make the call. */
  grantExpiresAt: string | null;
}

export interface ApprovalVoteView {
  subject: string;
  issuer: string;
  name: string | null;
  approve: boolean;
  reason: string | null;
  at: string;
}

export type ApprovalStatusName = 'pending' | 'approved' | 'denied' | 'expired' | 'unknown';

/** `GET /_airlock/api/v1/approvals` */
export interface ApprovalsResponse {
  approvals: ApprovalView[];
}

/** `GET /_airlock/api/v1/approvals/<id>`, `POST …/approve`, `POST …/deny` */
export interface ApprovalResponse {
  approval: ApprovalView;
}

export interface ApprovalCaller {
  identity: VerifiedIdentity;
  admin: boolean;
}

const statusByName: Record<Exclude<ApprovalStatusName, 'unknown'>, ApprovalStatus> = {
  pending: ApprovalStatus.APPROVAL_STATUS_PENDING,
  approved: ApprovalStatus.APPROVAL_STATUS_APPROVED,
  denied: ApprovalStatus.APPROVAL_STATUS_DENIED,
  expired: ApprovalStatus.APPROVAL_STATUS_EXPIRED,
};
const approvalIdPattern = /^[\w-]{1,128}$/;
const maxReasonLength = 1024;
const maxListLimit = 1000;

/**
 * Approvals a caller may see: admins every one; anyone else those they requested or may vote on (a member of one of
 * the approver groups). Approving is judged by the approval service, never here.
 */
function visibleTo(caller: ApprovalCaller, approval: Approval): boolean {
  if (caller.admin) return true;
  const requester = approval.requester;
  if (requester && requester.issuer === caller.identity.issuer && requester.subject === caller.identity.subject) return true;
  const groups = approval.requirement?.approverGroups ?? [];
  return caller.identity.groups.some((group) => groups.includes(group));
}

export async function listApprovals(caller: ApprovalCaller, query: URLSearchParams, deps: EdgeDependencies): Promise<ApprovalsResponse> {
  const statuses = (query.get('status') ?? '')
    .split(',')
    .map((name) => name.trim())
    .filter((name) => name !== '')
    .map((name) => {
      const status = (statusByName as Record<string, ApprovalStatus | undefined>)[name];
      if (status === undefined) throw new AirlockError('InvalidRequest', `"status" must be pending, approved, denied or expired (or several, comma-separated).`);
      return status;
    });
  const limitText = query.get('limit');
  const limit = limitText === null || limitText === '' ? 0 : Number(limitText);
  if (!Number.isInteger(limit) || limit < 0 || limit > maxListLimit) throw new AirlockError('InvalidRequest', `"limit" must be a whole number from 1 to ${maxListLimit}.`);
  const { approvals } = await deps.approval.listApprovals({ statuses, limit }, { timeoutMs: deps.settings.dependencyTimeoutMs });
  return { approvals: approvals.filter((approval) => visibleTo(caller, approval)).map(approvalView) };
}

export async function getApproval(caller: ApprovalCaller, id: string, deps: EdgeDependencies): Promise<ApprovalResponse> {
  checkId(id);
  const { approval } = await deps.approval.getApproval({ id }, { timeoutMs: deps.settings.dependencyTimeoutMs });
  if (!approval) throw new AirlockError('Internal', 'The approval service returned no approval.');
  if (!visibleTo(caller, approval)) {
    throw new AirlockError('AccessDenied', `Only the requester, members of ${approval.requirement?.approverGroups.join(' or ') || 'its approver groups'} and admins may see approval ${id}.`);
  }
  return { approval: approvalView(approval) };
}

/**
 * Casts the caller's vote. The voter is the token's principal; the approval service enforces every rule (the requester
 * never approves their own request, approver groups, quorum, one vote each, expiry), atomically.
 */
export async function voteOnApproval(caller: ApprovalCaller, id: string, approve: boolean, body: Record<string, unknown>, deps: EdgeDependencies): Promise<ApprovalResponse> {
  checkId(id);
  const raw = body.reason;
  if (raw !== undefined && raw !== null && (typeof raw !== 'string' || raw.length > maxReasonLength)) {
    throw new AirlockError('InvalidRequest', `"reason" must be a string of at most ${maxReasonLength} characters.`);
  }
  const reason = typeof raw === 'string' ? raw.trim() : '';
  if (!approve && reason === '') throw new AirlockError('InvalidRequest', 'A denial needs a "reason": the agent and its human read it.');
  const voter: Principal = {
    subject: caller.identity.subject,
    issuer: caller.identity.issuer,
    groups: [...caller.identity.groups],
    sessionId: '',
    name: caller.identity.name ?? '',
  };
  const { approval } = await deps.approval.vote({ approvalId: id, voter, approve, reason }, { timeoutMs: deps.settings.dependencyTimeoutMs });
  if (!approval) throw new AirlockError('Internal', 'The approval service returned no approval.');
  deps.logger.info({ approvalId: id, approve, by: { subject: voter.subject, issuer: voter.issuer }, status: statusName(approval.status) }, 'approval vote through the admin API');
  return { approval: approvalView(approval) };
}

function checkId(id: string): void {
  if (!approvalIdPattern.test(id)) throw new AirlockError('InvalidRequest', 'The approval id is not valid.');
}

export function statusName(status: ApprovalStatus): ApprovalStatusName {
  switch (status) {
    case ApprovalStatus.APPROVAL_STATUS_PENDING:
      return 'pending';
    case ApprovalStatus.APPROVAL_STATUS_APPROVED:
      return 'approved';
    case ApprovalStatus.APPROVAL_STATUS_DENIED:
      return 'denied';
    case ApprovalStatus.APPROVAL_STATUS_EXPIRED:
      return 'expired';
    default:
      return 'unknown';
  }
}

const iso = (ms: number) => new Date(ms).toISOString();

export function approvalView(approval: Approval): ApprovalView {
  const requester = approval.requester;
  const call = approval.call;
  return {
    id: approval.id,
    status: statusName(approval.status),
    requester: {
      subject: requester?.subject ?? '',
      issuer: requester?.issuer ?? '',
      name: requester?.name || null,
      groups: requester?.groups ?? [],
      sessionId: requester?.sessionId || null,
    },
    action: call?.action ?? '',
    service: call?.service ?? '',
    operation: call?.operation ?? '',
    resources: call?.resources ?? [],
    region: call?.region ?? '',
    roleArn: call?.roleArn ?? '',
    parameters: call?.parameters ?? {},
    approverGroups: approval.requirement?.approverGroups ?? [],
    quorum: approval.requirement?.quorum || 1,
    policyId: approval.policyId || null,
    reason: approval.reason || null,
    votes: approval.votes.map((cast) => ({
      subject: cast.voter?.subject ?? '',
      issuer: cast.voter?.issuer ?? '',
      name: cast.voter?.name || null,
      approve: cast.approve,
      reason: cast.reason || null,
      at: iso(cast.atMs),
    })),
    createdAt: iso(approval.createdAtMs),
    expiresAt: iso(approval.expiresAtMs),
    grantExpiresAt: approval.grantExpiresAtMs > 0 ? iso(approval.grantExpiresAtMs) : null,
  };
}
