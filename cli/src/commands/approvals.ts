import { configDir } from '../people/config-dir.js';
import { currentToken } from '../people/current-token.js';
import { resolveEndpoint } from '../people/endpoint.js';
import { Failure, UsageError } from '../people/errors.js';
import { adminCall } from '../people/admin-api.js';
import { httpFetch, isRecord, type Fetch } from '../people/http.js';
import { formatTime, renderTable } from '../people/table.js';
import { helpOption, parseOptions } from './args.js';

/** An approval as the edge's admin API shows it (docs/admin-api.md, `ApprovalView`). */
export interface ApprovalSummary {
  id: string;
  status: string;
  requester: { subject: string; issuer: string; name?: string | null; groups?: string[]; sessionId?: string | null };
  action: string;
  resources: string[];
  region?: string;
  roleArn?: string;
  parameters?: Record<string, string>;
  approverGroups: string[];
  quorum: number;
  policyId?: string | null;
  reason?: string | null;
  votes: { subject: string; issuer: string; name?: string | null; approve: boolean; reason?: string | null; at: string }[];
  createdAt: string;
  expiresAt: string;
  grantExpiresAt?: string | null;
}

const statuses = ['pending', 'approved', 'denied', 'expired'] as const;

export async function approvals(argv: string[]): Promise<number> {
  const { values, positionals } = parseOptions(
    argv,
    { status: { type: 'string' }, reason: { type: 'string' }, endpoint: { type: 'string' }, json: { type: 'boolean' }, ...helpOption },
    true,
  );
  const [action, id, ...extra] = positionals;
  if (action !== 'list' && action !== 'show' && action !== 'approve' && action !== 'deny') {
    throw new UsageError('say airlock approvals list, show <id>, approve <id> or deny <id> --reason R');
  }
  if (extra.length > 0) throw new UsageError(`unexpected argument ${JSON.stringify(extra[0])}`);
  if (action === 'list') {
    if (id !== undefined) throw new UsageError('airlock approvals list takes no argument; filter with --status');
    if (values.status !== undefined && !(statuses as readonly string[]).includes(values.status)) {
      throw new UsageError(`--status must be one of ${statuses.join(', ')}`);
    }
  } else if (id === undefined) {
    throw new UsageError(`airlock approvals ${action} needs the approval id`);
  }
  if (values.status !== undefined && action !== 'list') throw new UsageError('--status goes with airlock approvals list');
  if (values.reason !== undefined && action !== 'approve' && action !== 'deny') throw new UsageError('--reason goes with approve or deny');
  if (action === 'deny' && !values.reason?.trim()) throw new UsageError('airlock approvals deny needs --reason R: the agent and its human read it');

  const token = await currentToken(configDir());
  const api = approvalsApi(resolveEndpoint(values.endpoint, process.env, token.login.endpoint), token.token);
  if (action === 'list') {
    const listed = await api.list(values.status);
    process.stdout.write(values.json ? `${JSON.stringify({ approvals: listed }, null, 2)}\n` : renderApprovals(listed));
    return 0;
  }
  const approval = action === 'show' ? await api.get(id!) : await api.vote(id!, action === 'approve', values.reason);
  if (values.json) process.stdout.write(`${JSON.stringify({ approval }, null, 2)}\n`);
  else {
    if (action !== 'show') process.stdout.write(`${action === 'approve' ? 'Approved' : 'Denied'}: approval ${approval.id} is now ${approval.status}.\n\n`);
    process.stdout.write(renderApproval(approval));
  }
  return 0;
}

/** A client of the approval routes of the edge's admin API; every call carries the person's token as a bearer token. */
export function approvalsApi(endpoint: string, token: string, fetchImpl: Fetch = httpFetch) {
  const call = adminCall(endpoint, token, fetchImpl);
  const one = (answer: Record<string, unknown>): ApprovalSummary => {
    if (!isRecord(answer.approval)) throw new Failure('Airlock answered without an approval');
    return answer.approval as unknown as ApprovalSummary;
  };
  return {
    async list(status?: string): Promise<ApprovalSummary[]> {
      const answer = await call('GET', `/approvals${status ? `?${new URLSearchParams({ status })}` : ''}`);
      if (!Array.isArray(answer.approvals)) throw new Failure('Airlock answered the approval list without an approvals array');
      return answer.approvals as ApprovalSummary[];
    },
    async get(id: string): Promise<ApprovalSummary> {
      return one(await call('GET', `/approvals/${encodeURIComponent(id)}`));
    },
    async vote(id: string, approve: boolean, reason?: string): Promise<ApprovalSummary> {
      return one(await call('POST', `/approvals/${encodeURIComponent(id)}/${approve ? 'approve' : 'deny'}`, reason ? { reason } : {}));
    },
  };
}

const who = (person: { subject: string; name?: string | null }) => (person.name ? `${person.name} (${person.subject})` : person.subject);

export function renderApprovals(listed: ApprovalSummary[]): string {
  if (listed.length === 0) return 'No approvals.\n';
  return renderTable(
    ['APPROVAL', 'STATUS', 'REQUESTER', 'ACTION', 'RESOURCES', 'APPROVERS', 'VOTES', 'CREATED', 'UNTIL'],
    listed.map((approval) => [
      approval.id,
      approval.status,
      who(approval.requester),
      approval.action,
      approval.resources.join(',') || '-',
      approval.approverGroups.join(','),
      `${approval.votes.filter((cast) => cast.approve).length}/${approval.quorum}${approval.votes.some((cast) => !cast.approve) ? ' (denied)' : ''}`,
      formatTime(approval.createdAt),
      formatTime(approval.status === 'approved' ? (approval.grantExpiresAt ?? undefined) : approval.status === 'pending' ? approval.expiresAt : undefined),
    ]),
  );
}

/** One approval in full: who asked, for what, why, who may decide, and every vote. */
export function renderApproval(approval: ApprovalSummary): string {
  const lines: [string, string][] = [
    ['Approval', approval.id],
    ['Status', approval.status],
    ['Requester', `${who(approval.requester)} from ${approval.requester.issuer}${approval.requester.sessionId ? `, session ${approval.requester.sessionId}` : ''}`],
    ['Action', approval.action],
    ['Resources', approval.resources.join(', ') || '-'],
  ];
  if (approval.region) lines.push(['Region', approval.region]);
  if (approval.roleArn) lines.push(['Role', approval.roleArn]);
  const parameters = Object.entries(approval.parameters ?? {});
  if (parameters.length > 0) lines.push(['Parameters', parameters.map(([name, value]) => `${name}=${value}`).join(', ')]);
  lines.push(
    ['Why', `${approval.reason ?? '-'}${approval.policyId ? ` (policy ${approval.policyId})` : ''}`],
    ['Approvers', `${approval.quorum > 1 ? `${approval.quorum} of ` : ''}${approval.approverGroups.join(', ')}`],
    ['Created', formatTime(approval.createdAt)],
    ['Pending until', formatTime(approval.expiresAt)],
  );
  if (approval.grantExpiresAt) lines.push(['Granted until', formatTime(approval.grantExpiresAt)]);
  const width = Math.max(...lines.map(([label]) => label.length)) + 1;
  const text = lines.map(([label, value]) => `${`${label}:`.padEnd(width)} ${value}`);
  text.push(approval.votes.length === 0 ? 'Votes: none yet' : 'Votes:');
  for (const cast of approval.votes) {
    text.push(`  ${cast.approve ? 'approved' : 'denied'} by ${who(cast)} from ${cast.issuer} at ${formatTime(cast.at)}${cast.reason ? `: ${cast.reason}` : ''}`);
  }
  return `${text.join('\n')}\n`;
}
