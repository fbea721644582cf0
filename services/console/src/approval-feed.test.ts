import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { createEmbeddedBus } from '@airlock/bus';
import { approvalEventsStream } from '@airlock/contracts';
import { createLogger } from '@airlock/logging';
import { ApprovalFeed } from './approval-feed.js';

describe('ApprovalFeed', () => {
  it('wakes its listeners once for a burst of approval events on the bus, and not after they unsubscribe', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'console-feed-'));
    const bus = await createEmbeddedBus({ dataDir: dir });
    await bus.ensureStream({ name: approvalEventsStream.name, subjects: [...approvalEventsStream.subjects] });
    // A wide coalescing window and no timer, so that a slow machine still publishes the burst within one window.
    const feed = new ApprovalFeed(bus, createLogger({ service: 'console', level: 'silent' }), { coalesceMs: 500, refreshMs: 3_600_000 });
    try {
      let woken = 0;
      let wake: () => void = () => undefined;
      const unsubscribe = feed.subscribe(() => {
        woken += 1;
        wake();
      });
      // The watch starts asynchronously: publish until the first wake-up arrives.
      const first = new Promise<void>((resolve) => (wake = resolve));
      const publishing = setInterval(() => void bus.publish(approvalEventsStream.subjectFor('requested'), new Uint8Array()), 20);
      await first;
      clearInterval(publishing);
      await new Promise((resolve) => setTimeout(resolve, 700));
      woken = 0;

      const burst = new Promise<void>((resolve) => (wake = resolve));
      for (const kind of ['requested', 'decided', 'expired'] as const) await bus.publish(approvalEventsStream.subjectFor(kind), new Uint8Array());
      await burst;
      await new Promise((resolve) => setTimeout(resolve, 700));
      expect(woken).toBe(1);

      unsubscribe();
      await bus.publish(approvalEventsStream.subjectFor('decided'), new Uint8Array());
      await new Promise((resolve) => setTimeout(resolve, 700));
      expect(woken).toBe(1);
    } finally {
      feed.close();
      await bus.close();
      await rm(dir, { recursive: true, force: true });
    }
  });
});
