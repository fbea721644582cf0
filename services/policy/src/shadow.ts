import { Decision, type DecideRequest, type DecideResponse } from '@airlock/contracts';
import type { Logger } from '@airlock/logging';
import type { PolicyEngine } from './engine.js';

/** How often the candidate set agreed with the live one, since the service started. */
export interface ShadowCounts {
  /** Calls decided by both sets. */
  readonly compared: number;
  /** Calls the candidate decided differently (decision, deciding policies, approval requirement or session policy). */
  readonly differed: number;
  /** Calls the candidate could not decide (the live answer was unaffected). */
  readonly failed: number;
}

/** The fields of two decisions that differ, by name; empty when the candidate would have answered the same. */
export function differences(live: DecideResponse, candidate: DecideResponse): string[] {
  const fields: string[] = [];
  if (live.decision !== candidate.decision) fields.push('decision');
  if ([...live.policyIds].sort().join('\n') !== [...candidate.policyIds].sort().join('\n')) fields.push('policyIds');
  const approval = (response: DecideResponse) =>
    response.approval === undefined
      ? ''
      : JSON.stringify([[...response.approval.approverGroups].sort(), response.approval.quorum, response.approval.pendingTtlSeconds, response.approval.grantWindowSeconds]);
  if (approval(live) !== approval(candidate)) fields.push('approval');
  if (live.decision === Decision.DECISION_DENY && candidate.decision === Decision.DECISION_DENY && live.reason !== candidate.reason) fields.push('reason');
  // With the same decision, a candidate that scopes credentials differently still changes what AWS lets the call do.
  const sessionPolicy = (response: DecideResponse) => response.obligations?.sessionPolicy ?? '';
  if (live.decision === candidate.decision && sessionPolicy(live) !== sessionPolicy(candidate)) fields.push('sessionPolicy');
  return fields;
}

/**
 * Shadow mode: a candidate policy set decides every call beside the live one, after the live answer is made and
 * without changing it. A difference is logged as one structured line (`event: "policy.shadow.diff"`) and counted, so
 * a policy change can be watched against real traffic before it ships. The line names the principal, action,
 * resources and both answers; never the call's parameters or context, which may carry data.
 */
export class ShadowEvaluator {
  private counts = { compared: 0, differed: 0, failed: 0 };

  constructor(
    readonly candidate: PolicyEngine,
    private readonly logger: Logger,
  ) {}

  private reported = -1;

  get stats(): ShadowCounts {
    return { ...this.counts };
  }

  /**
   * Logs the running counts (`event: "policy.shadow.summary"`), with both sets' versions, when calls were compared
   * since the last report: the number to watch before a candidate ships is `differed`, read from the logs.
   */
  report(): void {
    const seen = this.counts.compared + this.counts.failed;
    if (seen === this.reported) return;
    this.reported = seen;
    this.logger.info(
      { event: 'policy.shadow.summary', ...this.counts, candidateVersion: this.candidate.snapshot.version, candidateFiles: this.candidate.snapshot.files },
      `shadow policy set: ${this.counts.differed} of ${this.counts.compared} calls decided differently`,
    );
  }

  observe(request: DecideRequest, live: DecideResponse, liveVersion: string): void {
    let candidate: DecideResponse;
    try {
      candidate = this.candidate.decide(request);
    } catch (error) {
      this.counts.failed++;
      this.logger.warn({ event: 'policy.shadow.error', error: error instanceof Error ? error.message : String(error) }, 'shadow policy set could not decide');
      return;
    }
    this.counts.compared++;
    const fields = differences(live, candidate);
    if (fields.length === 0) return;
    this.counts.differed++;
    const summary = (response: DecideResponse, version: string) => ({
      decision: Decision[response.decision]?.replace(/^DECISION_/, '') ?? String(response.decision),
      policyIds: response.policyIds,
      reason: response.reason,
      ...(response.approval ? { approval: response.approval } : {}),
      version,
    });
    this.logger.info(
      {
        event: 'policy.shadow.diff',
        fields,
        principal: request.principal ? `${request.principal.issuer}#${request.principal.subject}` : '',
        groups: request.principal?.groups ?? [],
        action: request.call?.action || `${request.call?.service}:${request.call?.operation}`,
        resources: request.call?.resources ?? [],
        live: summary(live, liveVersion),
        candidate: summary(candidate, this.candidate.snapshot.version),
        differed: this.counts.differed,
        compared: this.counts.compared,
      },
      'shadow policy set would have decided differently',
    );
  }
}
