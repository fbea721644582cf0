import { setTimeout as sleep } from 'node:timers/promises';
import type { Bus } from '@airlock/bus';
import { approvalEventsStream } from '@airlock/contracts';
import type { Logger } from '@airlock/logging';

export interface ApprovalFeedTimings {
  /** How often every open approvals page is refreshed anyway, in case an event was missed (bus down, another bus). @default 10000 */
  refreshMs?: number;
  /** Events that arrive within this time of the first (a quorum of votes, a burst of requests) cause one refresh. @default 100 */
  coalesceMs?: number;
}

/**
 * Tells the open approvals pages when to fetch again: on every approval event on the bus (requested, decided,
 * expired), and every `refreshMs`. The event itself is not passed on: each page fetches through the edge's
 * admin API with its own person's token, so the edge alone decides which approvals that person may see.
 */
export class ApprovalFeed {
  private readonly listeners = new Set<() => void>();
  private readonly stop = new AbortController();
  private pending: NodeJS.Timeout | undefined;
  private readonly ticker: NodeJS.Timeout;
  private readonly coalesceMs: number;

  constructor(
    bus: Pick<Bus, 'watch'> | undefined,
    private readonly logger: Logger,
    timings: ApprovalFeedTimings = {},
  ) {
    this.coalesceMs = timings.coalesceMs ?? 100;
    this.ticker = setInterval(() => this.notify(), timings.refreshMs ?? 10_000);
    this.ticker.unref();
    if (bus) void this.watch(bus);
  }

  subscribe(listener: () => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  close(): void {
    this.stop.abort();
    clearInterval(this.ticker);
    clearTimeout(this.pending);
    this.listeners.clear();
  }

  private schedule(): void {
    this.pending ??= setTimeout(() => {
      this.pending = undefined;
      this.notify();
    }, this.coalesceMs);
  }

  private notify(): void {
    for (const listener of this.listeners) listener();
  }

  /** A live watch of every approval subject, started again a second after it breaks. */
  private async watch(bus: Pick<Bus, 'watch'>): Promise<void> {
    const pattern = approvalEventsStream.subjects[0];
    while (!this.stop.signal.aborted) {
      try {
        for await (const _event of bus.watch(pattern, { signal: this.stop.signal })) this.schedule();
      } catch (error) {
        if (!this.stop.signal.aborted) this.logger.warn({ err: error }, 'approval events watch broke; pages refresh on their timer until it is back');
      }
      await sleep(1_000, undefined, { signal: this.stop.signal }).catch(() => undefined);
    }
  }
}
