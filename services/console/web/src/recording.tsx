import { useEffect, useState } from 'preact/hooks';
import type { DecisionName, RecordingResponse, TimelineEntry, VerificationResponse } from '../../src/views.js';
import { getJson } from './api.js';
import { Badge, Failure, Parameters, personName, Time } from './format.js';

const decisionLabel: Record<DecisionName, [string, 'good' | 'bad' | 'wait' | 'plain']> = {
  allow: ['allowed', 'good'],
  deny: ['denied', 'bad'],
  'approval-required': ['needed approval', 'wait'],
  unspecified: ['no decision', 'plain'],
};

/** One recorded session replayed as a timeline, and its integrity checked by the recorder (hash chain, signed digests). */
export function RecordingPage({ sessionId }: { sessionId: string }) {
  const [recording, setRecording] = useState<RecordingResponse | undefined>();
  const [error, setError] = useState<unknown>();
  const [verification, setVerification] = useState<VerificationResponse | undefined>();
  const [verifying, setVerifying] = useState(false);
  const [verifyError, setVerifyError] = useState<unknown>();

  useEffect(() => {
    getJson<RecordingResponse>(`/api/recordings/${encodeURIComponent(sessionId)}`).then(setRecording, setError);
  }, [sessionId]);

  const verify = async () => {
    setVerifying(true);
    setVerifyError(undefined);
    try {
      setVerification(await getJson<VerificationResponse>(`/api/recordings/${encodeURIComponent(sessionId)}/verify`));
    } catch (thrown) {
      setVerifyError(thrown);
    } finally {
      setVerifying(false);
    }
  };

  return (
    <>
      <p>
        <a href="#/recordings">← All recorded sessions</a>
      </p>
      <h1 tabIndex={-1}>
        Session <code>{sessionId}</code>
      </h1>
      <section aria-labelledby="integrity-heading" class="integrity">
        <h2 id="integrity-heading">Integrity</h2>
        <button type="button" onClick={() => void verify()} disabled={verifying}>
          {verifying ? 'Verifying…' : 'Verify integrity'}
        </button>
        <div role="status">{verification && <VerificationResult report={verification} />}</div>
        <Failure error={verifyError} />
      </section>
      <section aria-labelledby="timeline-heading">
        <h2 id="timeline-heading">Timeline</h2>
        <Failure error={error} />
        {!recording && !error && <p aria-busy="true">Loading…</p>}
        {recording && (
          <ol class="timeline">
            {recording.timeline.map((entry, index) => (
              <Entry key={index} entry={entry} />
            ))}
          </ol>
        )}
      </section>
    </>
  );
}

function VerificationResult({ report }: { report: VerificationResponse }) {
  return (
    <div class={report.ok ? 'verified' : 'failure'}>
      <p>
        <strong>{report.ok ? 'Verified' : 'Verification failed'}</strong>: {report.objects} object{report.objects === 1 ? '' : 's'}, {report.events} event
        {report.events === 1 ? '' : 's'}, hash chain {report.ok ? 'intact' : 'broken'}; digests {report.signed ? 'signed by a trusted key' : 'not signed'}.
      </p>
      {report.problems.length > 0 && (
        <ul>
          {report.problems.map((problem, index) => (
            <li key={index}>
              <strong>{problem.kind}</strong> in <code>{problem.key}</code>
              {problem.line ? ` line ${problem.line}` : ''}: {problem.message}
            </li>
          ))}
        </ul>
      )}
    </div>
  );
}

function Entry({ entry }: { entry: TimelineEntry }) {
  if (entry.kind === 'started') {
    return (
      <li class="entry">
        <Time at={entry.at} /> <strong>Session started</strong> by {personName(entry.principal)} as <code>{entry.roleArn}</code>
        {entry.expiresAt && (
          <>
            , valid until <Time at={entry.expiresAt} />
          </>
        )}
      </li>
    );
  }
  if (entry.kind === 'ended') {
    return (
      <li class="entry">
        <Time at={entry.at} /> <strong>Session ended</strong>: {entry.reason}
      </li>
    );
  }
  if (entry.kind === 'requested') {
    return (
      <li class="entry">
        <Time at={entry.at} /> <strong>About to forward</strong> <code>{entry.action}</code> {entry.resources.join(', ')}
      </li>
    );
  }
  const [label, tone] = decisionLabel[entry.decision];
  const outcome = entry.errorCode ? `refused: ${entry.errorCode}` : entry.upstreamStatus ? `AWS answered ${entry.upstreamStatus}` : 'no answer';
  return (
    <li class="entry call">
      <p>
        <Time at={entry.at} /> <strong>
          <code>{entry.action || 'unknown operation'}</code>
        </strong>{' '}
        <Badge tone={tone}>{label}</Badge> <span class="hint">{outcome}, {entry.durationMs} ms</span>
      </p>
      <dl class="facts">
        {entry.resources.length > 0 && (
          <>
            <dt>Resources</dt>
            <dd>{entry.resources.map((resource) => <code key={resource}>{resource}</code>)}</dd>
          </>
        )}
        {entry.reason && (
          <>
            <dt>Reason</dt>
            <dd>{entry.reason}</dd>
          </>
        )}
        {entry.policyIds.length > 0 && (
          <>
            <dt>Policies</dt>
            <dd>{entry.policyIds.join(', ')}</dd>
          </>
        )}
        {entry.approval && (
          <>
            <dt>Approval</dt>
            <dd>
              <Badge tone={entry.approval.status === 'approved' ? 'good' : entry.approval.status === 'pending' ? 'wait' : 'bad'}>{entry.approval.status}</Badge>{' '}
              <code>{entry.approval.id}</code>
              {entry.approval.votes.length > 0 && (
                <ul>
                  {entry.approval.votes.map((vote, index) => (
                    <li key={index}>
                      {vote.approve ? 'Approved' : 'Denied'} by {personName(vote.voter)} at <Time at={vote.at} />
                      {vote.reason ? `: “${vote.reason}”` : ''}
                    </li>
                  ))}
                </ul>
              )}
            </dd>
          </>
        )}
        <Parameters parameters={entry.parameters} />
        <dt>Masked in the answer</dt>
        <dd>
          {entry.masked.length
            ? entry.masked.map((value) => `${value.kind} × ${value.count}${value.location ? ` at ${value.location}` : ''}${value.rule ? ` (${value.rule})` : ''}`).join('; ')
            : 'nothing'}
          {entry.unmaskedReason && <strong> · sent unmasked: masking failed ({entry.unmaskedReason})</strong>}
        </dd>
        <dt>Request</dt>
        <dd>
          {entry.region || 'no region'} · {entry.bytesIn} bytes in, {entry.bytesOut} bytes out
          {entry.awsRequestId && (
            <>
              {' '}
              · AWS request <code>{entry.awsRequestId}</code>
            </>
          )}
        </dd>
      </dl>
    </li>
  );
}
