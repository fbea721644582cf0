import { ApprovalStatus, type Approval, type Principal } from '@airlock/contracts';

/** Block and action ids the interaction handler recognises. */
export const approveActionId = 'airlock_approve';
export const denyActionId = 'airlock_deny';
export const denyModalCallbackId = 'airlock_deny_reason';
export const reasonBlockId = 'reason';
export const reasonActionId = 'reason';

// Slack's limits: section text 3000, fields 2000, header 150, modal title 24.
const sectionLimit = 2900;
const fieldLimit = 1900;

/** A Slack message: fallback text (notifications, screen readers) and its blocks. */
export interface RenderedMessage {
  text: string;
  blocks: Record<string, unknown>[];
}

/** Grows with an approval's progress, so a stale rendering never replaces a newer one. */
export function progressOf(approval: Approval): number {
  if (approval.status !== ApprovalStatus.APPROVAL_STATUS_PENDING) return 1_000_000;
  return approval.votes.filter((vote) => vote.approve).length;
}

/** mrkdwn text with Slack's three control characters escaped, so request data cannot mention or link. */
export function escapeMrkdwn(text: string): string {
  return text.replaceAll('&', '&amp;').replaceAll('<', '&lt;').replaceAll('>', '&gt;');
}

function truncate(text: string, limit: number): string {
  return text.length <= limit ? text : `${text.slice(0, limit - 1)}…`;
}

export function describePrincipal(principal: Principal | undefined): string {
  if (!principal) return 'unknown';
  const who = principal.name && principal.name !== principal.subject ? `${principal.name} (${principal.subject})` : principal.subject;
  return `${who} @ ${principal.issuer}`;
}

function slackDate(ms: number): string {
  const seconds = Math.floor(ms / 1000);
  return `<!date^${seconds}^{date_short_pretty} {time}|${new Date(seconds * 1000).toISOString()}>`;
}

function code(text: string, limit: number): string {
  // A run of backticks would end the code block early.
  return '```' + truncate(escapeMrkdwn(text).replaceAll('```', 'ˋˋˋ'), limit - 6) + '```';
}

/** The message for an approval in its current state: a request with buttons while pending, its outcome afterwards. */
export function renderApproval(approval: Approval): RenderedMessage {
  const call = approval.call;
  const action = call?.action || `${call?.service ?? '?'}:${call?.operation ?? '?'}`;
  const requester = describePrincipal(approval.requester);
  const requirement = approval.requirement;
  const quorum = requirement?.quorum || 1;
  const approvals = approval.votes.filter((vote) => vote.approve);

  const fields = [
    `*Requested by*\n${escapeMrkdwn(requester)}`,
    `*Action*\n\`${escapeMrkdwn(action)}\``,
    `*Region*\n${escapeMrkdwn(call?.region || '—')}`,
    `*Role*\n${escapeMrkdwn(call?.roleArn || '—')}`,
    `*Policy*\n${escapeMrkdwn(approval.policyId || '—')}`,
    `*Approvers*\n${escapeMrkdwn((requirement?.approverGroups ?? []).join(', ') || '—')} (${quorum} needed)`,
    `*Requested*\n${slackDate(approval.createdAtMs)}`,
    `*Expires*\n${slackDate(approval.expiresAtMs)}`,
  ].map((text) => ({ type: 'mrkdwn', text: truncate(text, fieldLimit) }));

  const resources = call?.resources ?? [];
  const parameters = Object.entries(call?.parameters ?? {}).sort(([a], [b]) => a.localeCompare(b));
  const blocks: Record<string, unknown>[] = [
    { type: 'header', text: { type: 'plain_text', text: truncate(`Approval needed: ${action}`, 150) } },
    { type: 'section', fields },
  ];
  if (approval.reason) {
    blocks.push({ type: 'section', text: { type: 'mrkdwn', text: truncate(`*Why*\n${escapeMrkdwn(approval.reason)}`, sectionLimit) } });
  }
  if (resources.length > 0) {
    blocks.push({ type: 'section', text: { type: 'mrkdwn', text: `*Resources*\n${code(resources.join('\n'), sectionLimit - 20)}` } });
  }
  if (parameters.length > 0) {
    const lines = parameters.map(([key, value]) => `${key} = ${value}`).join('\n');
    blocks.push({ type: 'section', text: { type: 'mrkdwn', text: `*Parameters* (secrets masked)\n${code(lines, sectionLimit - 40)}` } });
  }

  const outcome = outcomeOf(approval, quorum);
  if (approval.status === ApprovalStatus.APPROVAL_STATUS_PENDING) {
    if (approvals.length > 0) blocks.push({ type: 'section', text: { type: 'mrkdwn', text: truncate(outcome, sectionLimit) } });
    blocks.push({
      type: 'actions',
      block_id: 'airlock_vote',
      elements: [
        { type: 'button', action_id: approveActionId, style: 'primary', text: { type: 'plain_text', text: 'Approve' }, value: approval.id },
        { type: 'button', action_id: denyActionId, style: 'danger', text: { type: 'plain_text', text: 'Deny' }, value: approval.id },
      ],
    });
  } else {
    blocks.push({ type: 'section', text: { type: 'mrkdwn', text: truncate(outcome, sectionLimit) } });
  }
  blocks.push({ type: 'context', elements: [{ type: 'mrkdwn', text: `Approval \`${escapeMrkdwn(approval.id)}\`` }] });

  const headline =
    approval.status === ApprovalStatus.APPROVAL_STATUS_PENDING ? `Approval needed: ${action} requested by ${requester}` : `${action}: ${outcome}`;
  return { text: truncate(headline.replaceAll('*', ''), 3000), blocks };
}

function outcomeOf(approval: Approval, quorum: number): string {
  const approvedBy = approval.votes.filter((vote) => vote.approve).map((vote) => escapeMrkdwn(describePrincipal(vote.voter)));
  switch (approval.status) {
    case ApprovalStatus.APPROVAL_STATUS_APPROVED:
      return `:white_check_mark: *Approved* by ${approvedBy.join(', ')}`;
    case ApprovalStatus.APPROVAL_STATUS_DENIED: {
      const denial = approval.votes.find((vote) => !vote.approve);
      const reason = denial?.reason ? `: ${escapeMrkdwn(denial.reason)}` : '';
      return `:no_entry: *Denied* by ${escapeMrkdwn(describePrincipal(denial?.voter))}${reason}`;
    }
    case ApprovalStatus.APPROVAL_STATUS_EXPIRED:
      return ':hourglass: *Expired* without a decision';
    default:
      return `Approved so far by ${approvedBy.join(', ')} (${approvedBy.length} of ${quorum})`;
  }
}

/** The modal that asks a denier for their reason; the approval id travels in private_metadata. */
export function denyModal(approvalId: string): Record<string, unknown> {
  return {
    type: 'modal',
    callback_id: denyModalCallbackId,
    private_metadata: JSON.stringify({ approvalId }),
    title: { type: 'plain_text', text: 'Deny request' },
    submit: { type: 'plain_text', text: 'Deny' },
    close: { type: 'plain_text', text: 'Cancel' },
    blocks: [
      { type: 'section', text: { type: 'mrkdwn', text: `Deny approval \`${escapeMrkdwn(approvalId)}\`? The held call is refused with your reason.` } },
      {
        type: 'input',
        block_id: reasonBlockId,
        label: { type: 'plain_text', text: 'Reason (the requester sees it)' },
        element: { type: 'plain_text_input', action_id: reasonActionId, multiline: true, min_length: 3, max_length: 1000 },
      },
    ],
  };
}
