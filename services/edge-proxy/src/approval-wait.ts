import type { Approval, ApprovalServiceService } from '@airlock/contracts';
import type { Bus } from '@airlock/bus';
import { AirlockError } from '@airlock/errors';
import type { ServiceClient } from '@airlock/transport';
import { decisionWatchOf, isSettled } from './decision-watch.js';

/** @default 25 — edge.approvalWaitSeconds. */
export const defaultApprovalWaitSeconds = 25;
/** How often a held call asks the approval service, in case a decision event was missed (bus down, another bus). */
export const approvalPollMs = 1_000;

export interface ApprovalWaitOptions {
  approval: Pick<ServiceClient<typeof ApprovalServiceService>, 'getApproval'>;
  /** Decisions announced on it wake the wait early (one watch per bus for all held calls: decision-watch.ts). */
  bus?: Pick<Bus, 'watch'> | undefined;
  /** How long to hold the call at most; 0 only reads the approval once. */
  waitMs: number;
  pollMs?: number;
  /** Per call to the approval service. */
  timeoutMs: number;
  /** The client's request: aborting (the client went away) ends the wait with an error. */
  signal: AbortSignal;
  now: () => number;
}

/**
 * Holds a call until its approval is decided (or expires), at most `waitMs`, and returns the approval as it then
 * stands. A decision is seen the moment it is published (the edge's watch of `approval.decided`, listened to before
 * the first read so that nothing decided in between is missed); a read every `pollMs` covers a missed or late event.
 * The approval service's own record is what counts: an event only wakes the wait early.
 */
export async function waitForDecision(pending: Approval, options: ApprovalWaitOptions): Promise<Approval> {
  if (isSettled(pending)) return pending;
  const { signal } = options;
  let wake: (() => void) | undefined;
  let announced = false;
  const stopListening =
    options.bus && options.waitMs > 0
      ? decisionWatchOf(options.bus).listen(pending.id, () => {
          announced = true;
          wake?.();
        })
      : undefined;
  try {
    const deadline = options.now() + options.waitMs;
    for (;;) {
      if (signal.aborted) throw clientGone(pending);
      // The event is only a hint; the read is the record (and writes down an expiry that is due).
      announced = false;
      const { approval } = await options.approval.getApproval({ id: pending.id }, { signal, timeoutMs: options.timeoutMs });
      if (!approval) throw new AirlockError('Internal', 'The approval service returned no approval.');
      const remaining = deadline - options.now();
      if (isSettled(approval) || remaining <= 0) return approval;
      // The client may have gone while the read was out: an abort listener added now would never fire.
      if (signal.aborted) throw clientGone(pending);
      // A decision announced while the read was out is read again at once.
      if (!announced) {
        await new Promise<void>((resolve) => {
          const timer = setTimeout(done, Math.min(options.pollMs ?? approvalPollMs, remaining));
          signal.addEventListener('abort', done, { once: true });
          wake = done;
          function done() {
            clearTimeout(timer);
            signal.removeEventListener('abort', done);
            wake = undefined;
            resolve();
          }
        });
      }
    }
  } finally {
    stopListening?.();
  }
}

function clientGone(approval: Approval): AirlockError {
  return new AirlockError('ApprovalPending', `The client went away while approval ${approval.id} was pending.`, { details: { approvalId: approval.id } });
}
