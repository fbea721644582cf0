import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { AirlockError } from '@airlock/errors';
import { writeFileAtomic } from '@airlock/local-files';
import { subjectMatches } from '../subjects.js';
import { AppendLog } from './append-log.js';
import { scanLines } from './jsonl.js';
import type { StreamLog } from './stream-log.js';

export interface ConsumerConfig {
  filterSubject?: string;
  ackWaitMs: number;
  /** Not positive: unlimited. */
  maxDeliver: number;
}

interface Pending {
  count: number;
  dueAt: number;
}

export interface Delivery {
  seq: number;
  deliveryCount: number;
}

/**
 * Every change is one idempotent "set" operation, so replaying the whole log over a snapshot that already contains
 * some of it gives the same state: c = config, d = delivered (seq, count), a = acked, t = terminated or given up.
 */
type Op =
  | { o: 'c'; cfg: ConsumerConfig }
  | { o: 'd'; s: number; n: number }
  | { o: 'a'; s: number }
  | { o: 't'; s: number };

interface Snapshot {
  cfg: ConsumerConfig;
  cursor: number;
  pending: Array<[number, number]>;
}

const COMPACT_AFTER_OPS = 10_000;

/**
 * A durable pull consumer with explicit acks. `cursor` is the highest sequence considered for first delivery;
 * everything at or below it is either acked, terminated, or in `pending` awaiting ack or redelivery.
 */
export class DurableConsumer {
  cursor = 0;
  readonly pending = new Map<number, Pending>();
  private opsSinceSnapshot = 0;

  private constructor(
    readonly name: string,
    public config: ConsumerConfig,
    private readonly snapshotPath: string,
    private readonly log: AppendLog,
  ) {}

  static async create(dir: string, name: string, config: ConsumerConfig): Promise<DurableConsumer> {
    const consumer = new DurableConsumer(name, config, join(dir, `${name}.json`), await AppendLog.open(join(dir, `${name}.log`)));
    await consumer.compact();
    return consumer;
  }

  /**
   * Deliveries of a previous run can no longer be acked by anyone, so they are due at once rather than after
   * their ack wait.
   */
  static async load(dir: string, name: string): Promise<DurableConsumer | undefined> {
    const snapshotPath = join(dir, `${name}.json`);
    const logPath = join(dir, `${name}.log`);
    let snapshot: Snapshot | undefined;
    try {
      snapshot = JSON.parse(await readFile(snapshotPath, 'utf8')) as Snapshot;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
    }
    let config = snapshot?.cfg;
    let cursor = snapshot?.cursor ?? 0;
    const pending = new Map<number, number>(snapshot?.pending ?? []);
    // A torn last op needs no repair: the compaction below snapshots the state and empties the log.
    await scanLines(logPath, (line, offset) => {
      let op: Op;
      try {
        op = JSON.parse(line.toString('utf8')) as Op;
      } catch (cause) {
        throw new AirlockError('Internal', `Consumer log ${logPath} is corrupt at byte ${offset}.`, { cause });
      }
      switch (op.o) {
        case 'c':
          config = op.cfg;
          break;
        case 'd':
          pending.set(op.s, op.n);
          cursor = Math.max(cursor, op.s);
          break;
        case 'a':
        case 't':
          pending.delete(op.s);
          break;
      }
    });
    if (!config) return undefined;
    const consumer = new DurableConsumer(name, config, snapshotPath, await AppendLog.open(logPath));
    consumer.cursor = cursor;
    for (const [seq, count] of pending) consumer.pending.set(seq, { count, dueAt: 0 });
    await consumer.compact();
    return consumer;
  }

  updateConfig(config: ConsumerConfig): Promise<void> {
    this.config = config;
    return this.persist([{ o: 'c', cfg: config }]);
  }

  /**
   * Takes up to `max` messages: due redeliveries first (oldest first), then new ones past the cursor. The state
   * changes now, synchronously, so that concurrent fetches never get the same delivery; `persisted` settles when
   * the log has it.
   */
  take(stream: StreamLog, max: number, now: number): { deliveries: Delivery[]; persisted: Promise<void> } {
    const deliveries: Delivery[] = [];
    const ops: Op[] = [];
    const due = [...this.pending].filter(([, p]) => p.dueAt <= now).sort(([a], [b]) => a - b);
    for (const [seq, p] of due) {
      if (deliveries.length >= max) break;
      if (this.config.maxDeliver > 0 && p.count >= this.config.maxDeliver) {
        this.pending.delete(seq);
        ops.push({ o: 't', s: seq });
        continue;
      }
      p.count += 1;
      p.dueAt = now + this.config.ackWaitMs;
      deliveries.push({ seq, deliveryCount: p.count });
      ops.push({ o: 'd', s: seq, n: p.count });
    }
    const filter = this.config.filterSubject;
    while (deliveries.length < max && this.cursor < stream.lastSeq) {
      const seq = ++this.cursor;
      const subject = stream.subjectOf(seq);
      if (subject === undefined || (filter && !subjectMatches(filter, subject))) continue;
      this.pending.set(seq, { count: 1, dueAt: now + this.config.ackWaitMs });
      deliveries.push({ seq, deliveryCount: 1 });
      ops.push({ o: 'd', s: seq, n: 1 });
    }
    return { deliveries, persisted: ops.length > 0 ? this.persist(ops) : Promise.resolve() };
  }

  /** When the next pending message becomes due, for waking a waiting fetch. */
  nextDueAt(): number | undefined {
    let next: number | undefined;
    for (const p of this.pending.values()) if (next === undefined || p.dueAt < next) next = p.dueAt;
    return next;
  }

  ack(seq: number): Promise<void> {
    if (!this.pending.delete(seq)) return Promise.resolve();
    return this.persist([{ o: 'a', s: seq }]);
  }

  term(seq: number): Promise<void> {
    if (!this.pending.delete(seq)) return Promise.resolve();
    return this.persist([{ o: 't', s: seq }]);
  }

  nak(seq: number, delayMs: number, now: number): boolean {
    const p = this.pending.get(seq);
    if (!p) return false;
    p.dueAt = now + Math.max(0, delayMs);
    return true;
  }

  close(): Promise<void> {
    return this.log.close();
  }

  private async persist(ops: Op[]): Promise<void> {
    const data = Buffer.from(ops.map((op) => `${JSON.stringify(op)}\n`).join(''), 'utf8');
    try {
      await this.log.append(data);
    } catch (cause) {
      throw new AirlockError('DependencyUnavailable', `The embedded bus could not write to ${this.log.path}.`, { cause });
    }
    this.opsSinceSnapshot += ops.length;
    if (this.opsSinceSnapshot >= COMPACT_AFTER_OPS) {
      this.opsSinceSnapshot = 0;
      // Best effort: a failed compaction leaves a longer log, never a wrong one.
      this.compact().catch(() => undefined);
    }
  }

  /** Snapshot, then empty the log; both under the log's queue so no op slips in between. */
  private compact(): Promise<void> {
    return this.log.run(async (fh) => {
      const snapshot: Snapshot = {
        cfg: this.config,
        cursor: this.cursor,
        pending: [...this.pending].map(([seq, p]) => [seq, p.count]),
      };
      await writeFileAtomic(this.snapshotPath, JSON.stringify(snapshot));
      await fh.truncate(0);
    });
  }
}
