import { useEffect, useRef, useState } from 'preact/hooks';
import type { ApprovalResponse, ApprovalsResponse, ApprovalView, ErrorResponse } from '../../src/views.js';
import { ApiError, postJson } from './api.js';
import { Badge, Failure, Parameters, personName, relative, Time } from './format.js';

const statusTone = { pending: 'wait', approved: 'good', denied: 'bad', expired: 'plain' } as const;

/**
 * Pending approvals, kept current by the console's event stream (an `approvals` event whenever the bus says an
 * approval changed), with approve and deny; below them the decisions made recently.
 */
export function ApprovalsPage({ announce, signedOut }: { announce: (text: string) => void; signedOut: () => void }) {
  const [approvals, setApprovals] = useState<ApprovalView[] | undefined>();
  const [failure, setFailure] = useState<string | undefined>();
  const known = useRef<Set<string> | undefined>(undefined);

  useEffect(() => {
    const stream = new EventSource('/api/approvals/stream');
    stream.addEventListener('approvals', (event) => {
      const { approvals: next } = JSON.parse((event as MessageEvent<string>).data) as ApprovalsResponse;
      const pending = next.filter((approval) => approval.status === 'pending');
      // Announce requests that arrive while the page is open; not the ones already there when it opened.
      if (known.current) {
        for (const approval of pending) if (!known.current.has(approval.id)) announce(`New approval request: ${approval.action} by ${personName(approval.requester)}.`);
      }
      known.current = new Set(pending.map((approval) => approval.id));
      setApprovals(next);
      setFailure(undefined);
    });
    stream.addEventListener('failure', (event) => {
      const error = JSON.parse((event as MessageEvent<string>).data) as ErrorResponse;
      if (error.code === 'MissingAuthentication') {
        stream.close();
        signedOut();
      }
      setFailure(error.message);
    });
    return () => stream.close();
  }, []);

  const replace = (changed: ApprovalView) => setApprovals((list) => list?.map((approval) => (approval.id === changed.id ? changed : approval)));
  const pending = approvals?.filter((approval) => approval.status === 'pending') ?? [];
  const decided = approvals?.filter((approval) => approval.status !== 'pending').slice(0, 20) ?? [];

  return (
    <>
      <h1 tabIndex={-1}>Approvals</h1>
      <p class="hint">Calls held for a person's decision. This page updates by itself.</p>
      {failure && <p class="failure" role="alert">{failure}</p>}
      <section aria-labelledby="pending-heading">
        <h2 id="pending-heading">
          Pending <span class="count">({approvals ? pending.length : '…'})</span>
        </h2>
        {approvals === undefined ? (
          <p aria-busy="true">Loading…</p>
        ) : pending.length === 0 ? (
          <p>Nothing is waiting for a decision you may see.</p>
        ) : (
          <ul class="cards" aria-label="Pending approvals">
            {pending.map((approval) => (
              <PendingApproval key={approval.id} approval={approval} decided={replace} announce={announce} />
            ))}
          </ul>
        )}
      </section>
      <section aria-labelledby="decided-heading">
        <h2 id="decided-heading">Recent decisions</h2>
        {decided.length === 0 ? (
          <p>None yet.</p>
        ) : (
          <table>
            <caption class="visually-hidden">Approvals decided recently, newest first</caption>
            <thead>
              <tr>
                <th scope="col">Call</th>
                <th scope="col">Requested by</th>
                <th scope="col">Status</th>
                <th scope="col">Decided by</th>
                <th scope="col">Requested</th>
              </tr>
            </thead>
            <tbody>
              {decided.map((approval) => (
                <tr key={approval.id}>
                  <td>
                    <code>{approval.action}</code> <span class="resources">{approval.resources.join(', ')}</span>
                  </td>
                  <td>{personName(approval.requester)}</td>
                  <td>
                    <Badge tone={statusTone[approval.status]}>{approval.status}</Badge>
                  </td>
                  <td>{approval.votes.map((vote) => `${vote.name ?? vote.subject}${vote.reason ? `: “${vote.reason}”` : ''}`).join('; ') || '—'}</td>
                  <td>
                    <Time at={approval.createdAt} />
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
      </section>
    </>
  );
}

function PendingApproval({ approval, decided, announce }: { approval: ApprovalView; decided: (approval: ApprovalView) => void; announce: (text: string) => void }) {
  const [reason, setReason] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>();
  const headingId = `approval-${approval.id}`;
  const reasonId = `reason-${approval.id}`;

  const vote = async (approve: boolean) => {
    if (!approve && reason.trim() === '') {
      setError(new ApiError('InvalidRequest', 'Say why you deny it: the agent reads the reason.', 400));
      document.getElementById(reasonId)?.focus();
      return;
    }
    setBusy(true);
    setError(undefined);
    try {
      const { approval: after } = await postJson<ApprovalResponse>(`/api/approvals/${encodeURIComponent(approval.id)}/${approve ? 'approve' : 'deny'}`, { reason });
      announce(`${approval.action} is now ${after.status}.`);
      decided(after);
    } catch (thrown) {
      setError(thrown);
    } finally {
      setBusy(false);
    }
  };

  return (
    <li class="card" aria-labelledby={headingId}>
      <h3 id={headingId}>
        <code>{approval.action}</code> requested by {personName(approval.requester)}
      </h3>
      <dl class="facts">
        <dt>Resources</dt>
        <dd>{approval.resources.length ? approval.resources.map((resource) => <code key={resource}>{resource}</code>) : 'none named'}</dd>
        <dt>Region and role</dt>
        <dd>
          {approval.region} · <code>{approval.roleArn}</code>
        </dd>
        <Parameters parameters={approval.parameters} />
        <dt>Why it is held</dt>
        <dd>
          {approval.reason} <span class="hint">(policy {approval.policyId})</span>
        </dd>
        <dt>Who may decide</dt>
        <dd>
          {approval.approverGroups.join(', ')} · {approval.votes.filter((vote) => vote.approve).length} of {approval.quorum} approvals so far
        </dd>
        <dt>Requested</dt>
        <dd>
          <Time at={approval.createdAt} />, expires {relative(approval.expiresAt)}
        </dd>
      </dl>
      <div class="vote">
        <label for={reasonId}>Reason (required to deny; the agent reads it)</label>
        <textarea id={reasonId} rows={2} maxLength={1024} value={reason} onInput={(event) => setReason(event.currentTarget.value)} disabled={busy} />
        <div class="actions">
          <button type="button" class="approve" disabled={busy} onClick={() => vote(true)}>
            Approve
          </button>
          <button type="button" class="deny" disabled={busy} onClick={() => vote(false)}>
            Deny
          </button>
        </div>
        <Failure error={error} />
      </div>
    </li>
  );
}
