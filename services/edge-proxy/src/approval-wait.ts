import { ApprovalEvent, ApprovalStatus, approvalEventsStream, type Approval, type ApprovalServiceService } from '@airlock/contracts';
import type { Bus } from '@airlock/bus';
import { AirlockError } from '@airlock/errors';
import type { ServiceClient } from '@airlock/transport';

/** @default 25 — edge.approvalWaitSeconds. */
export const defaultApprovalWaitSeconds = 25;
/** How often a held call asks the approval service, in case a decision event was missed (bus down, another bus). */
export const approvalPollMs = 1_000;

export interface ApprovalWaitOptions {
  approval: Pick<ServiceClient<typeof ApprovalServiceService>, 'getApproval'>;
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

/** Whether an approval has its final answer for the held call. */
export function isSettled(approval: Approval): boolean {
  return approval.status !== ApprovalStatus.APPROVAL_STATUS_PENDING && approval.status !== ApprovalStatus.APPROVAL_STATUS_UNSPECIFIED;
}

/**
 * Holds a call until its approval is decided (or expires), at most `waitMs`, and returns the approval as it then
 * stands. A decision is seen the moment it is published (a live watch of `approval.decided`, started before the first
 * read so that nothing decided in between is missed); a read every `pollMs` covers a missed or late event. The
 * approval service's own record is what counts: an event only wakes the wait early.
 */
export async function waitForDecision(pending: Approval, options: ApprovalWaitOptions): Promise<Approval> {
  if (isSettled(pending)) return pending;
  const { signal } = options;
  const stop = new AbortController();
  const stopWatching = () => stop.abort();
  signal.addEventListener('abort', stopWatching, { once: true });
  let wake: (() => void) | undefined;
  let announced: Approval | undefined;
  const wakeUp = () => {
    const resolve = wake;
    wake = undefined;
    resolve?.();
  };
  if (options.bus && options.waitMs > 0) {
    let watched: AsyncIterable<{ data: Uint8Array }> | undefined;
    try {
      watched = options.bus.watch(approvalEventsStream.subjectFor('decided'), { signal: stop.signal });
    } catch {
      // No bus right now: the poll still sees the decision, only later.
    }
    if (watched) {
      const events = watched;
      void (async () => {
        try {
          for await (const message of events) {
            let event: ApprovalEvent;
            try {
              event = ApprovalEvent.decode(message.data);
            } catch {
              continue;
            }
            if (event.approval?.id === pending.id && isSettled(event.approval)) {
              announced = event.approval;
              wakeUp();
            }
          }
        } catch {
          // The watch broke (bus gone); polling carries on.
        }
      })();
    }
  }
  try {
    const deadline = options.now() + options.waitMs;
    for (;;) {
      if (signal.aborted) throw clientGone(pending);
      // The event is only a hint; the read is the record (and writes down an expiry that is due).
      announced = undefined;
      const { approval } = await options.approval.getApproval({ id: pending.id }, { signal, timeoutMs: options.timeoutMs });
      if (!approval) throw new AirlockError('Internal', 'The approval service returned no approval.');
      const remaining = deadline - options.now();
      if (isSettled(approval) || remaining <= 0) return approval;
      // The client may have gone while the read was out: an abort listener added now would never fire.
      if (signal.aborted) throw clientGone(pending);
      if (announced === undefined) {
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
    signal.removeEventListener('abort', stopWatching);
    stop.abort();
  }
}

function clientGone(approval: Approval): AirlockError {
  return new AirlockError('ApprovalPending', `The client went away while approval ${approval.id} was pending.`, { details: { approvalId: approval.id } });
}
