import type { IncomingMessage } from 'node:http';
import { Decision, type Approval } from '@airlock/contracts';
import { addCallBindings, runWithCallBindings } from '@airlock/logging';
import { SpanKind, inSpan, metrics, secondsSince, setActiveSpanAttributes } from '@airlock/telemetry';
import { statusName } from './admin-approvals.js';

/**
 * Serves one request as one call for telemetry: a root span that every stage and service call continues (gRPC
 * metadata and NATS headers carry it on), and log bindings so that every line written for the call names it.
 */
export function observeRequest(request: IncomingMessage, serve: () => Promise<void>): Promise<void> {
  return runWithCallBindings({}, () =>
    inSpan('edge call', { kind: SpanKind.SERVER, attributes: { 'http.request.method': request.method ?? '' } }, () => serve()),
  );
}

/** Names the call in its log lines and span once the edge has given it an id. */
export function bindRequestId(requestId: string): void {
  addCallBindings({ requestId });
  setActiveSpanAttributes({ 'airlock.request_id': requestId });
}

/** What a finished call turned out to be; labels are bounded (no principals, ARNs or free text). */
export interface CallFacts {
  awsService?: string | undefined;
  operation?: string | undefined;
  decision?: Decision | undefined;
  errorCode?: string | undefined;
  upstreamStatus?: number | undefined;
  startedAt: number;
}

export function countCall(facts: CallFacts): void {
  const decision = decisionLabel(facts.decision);
  const awsService = facts.awsService ?? 'none';
  metrics.edgeCalls.inc({ aws_service: awsService, operation: facts.operation ?? 'none', decision, outcome: facts.errorCode ?? 'ok' });
  metrics.edgeDuration.observe({ aws_service: awsService, decision }, secondsSince(facts.startedAt));
  setActiveSpanAttributes({
    'aws.service': awsService,
    'aws.operation': facts.operation ?? '',
    'airlock.decision': decision,
    'airlock.outcome': facts.errorCode ?? 'ok',
    ...(facts.upstreamStatus ? { 'http.response.upstream_status_code': facts.upstreamStatus } : {}),
  });
}

/** Forwarding to AWS as one stage: its own span and the time until AWS answered with headers. */
export function observeUpstream<T>(awsService: string, forward: () => Promise<T>): Promise<T> {
  const startedAt = performance.now();
  return inSpan('upstream', { kind: SpanKind.CLIENT, attributes: { 'aws.service': awsService } }, forward).finally(() =>
    metrics.upstreamDuration.observe({ aws_service: awsService }, secondsSince(startedAt)),
  );
}

/** A call held for an approval decision: how long, and how the wait ended (pending: still undecided when it ended). */
export async function observeApprovalWait(wait: () => Promise<Approval>): Promise<Approval> {
  const startedAt = performance.now();
  let result = 'aborted';
  try {
    const approval = await wait();
    result = statusName(approval.status);
    return approval;
  } finally {
    metrics.approvalWaits.inc({ result });
    metrics.approvalWaitDuration.observe(secondsSince(startedAt));
  }
}

function decisionLabel(decision: Decision | undefined): string {
  switch (decision) {
    case Decision.DECISION_ALLOW:
      return 'allow';
    case Decision.DECISION_DENY:
      return 'deny';
    case Decision.DECISION_APPROVAL_REQUIRED:
      return 'approval_required';
    default:
      return 'none';
  }
}
