import { mkdir, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { AirlockError } from '@airlock/errors';
import { lockDir } from '@airlock/local-files';
import { DEFAULT_ACK_WAIT_MS, DEFAULT_DUPLICATE_WINDOW_MS, type ConsumerSpec, type StreamSpec, type WatchedMessage } from '../bus.js';
import { patternsOverlap, subjectMatches } from '../subjects.js';
import { DurableConsumer, type ConsumerConfig, type Delivery } from './durable-consumer.js';
import { StreamLog, type StoredMessage } from './stream-log.js';

export interface DeliveredMessage extends Delivery {
  stream: string;
  durable: string;
  message: StoredMessage;
}

interface Waiter {
  owner: object;
  max: number;
  /** Stops the waiter's timers at once; the fetch resolves when `persisted` settles. */
  done(deliveries: Delivery[], persisted?: Promise<void>): void;
}

interface ConsumerRuntime {
  stream: StreamLog;
  durable: DurableConsumer;
  waiters: Waiter[];
  timer: NodeJS.Timeout | undefined;
}

interface Watcher {
  owner: object;
  pattern: string;
  deliver(message: WatchedMessage): void;
  end(): void;
}

/**
 * Everything the embedded bus keeps for one data folder. Several Bus handles in one process share one engine,
 * the way several clients share one NATS server; each handle's fetches and watches are tagged with it as owner.
 */
export class Engine {
  private readonly streams = new Map<string, StreamLog>();
  private readonly consumers = new Map<string, ConsumerRuntime>();
  private readonly watchers = new Set<Watcher>();
  /** Creating streams and consumers touches files; one at a time keeps two callers from creating the same one. */
  private admin: Promise<unknown> = Promise.resolve();

  private constructor(
    private readonly dir: string,
    private readonly unlock: () => Promise<void>,
  ) {}

  static async open(dir: string): Promise<Engine> {
    await mkdir(join(dir, 'streams'), { recursive: true });
    const unlock = await lockDir(dir, 'embedded bus');
    const engine = new Engine(dir, unlock);
    try {
      for (const entry of await readdir(join(dir, 'streams'), { withFileTypes: true })) {
        if (!entry.isDirectory()) continue;
        const streamDir = join(dir, 'streams', entry.name);
        const stream = await StreamLog.load(streamDir, (_seq, message) => engine.stored(entry.name, message));
        engine.streams.set(stream.name, stream);
        for (const file of await readdir(join(streamDir, 'consumers'))) {
          if (!file.endsWith('.json') && !file.endsWith('.log')) continue;
          const name = file.replace(/\.(json|log)$/, '');
          if (engine.consumers.has(`${stream.name}/${name}`)) continue;
          const durable = await DurableConsumer.load(join(streamDir, 'consumers'), name);
          if (durable) engine.consumers.set(`${stream.name}/${name}`, { stream, durable, waiters: [], timer: undefined });
        }
      }
    } catch (error) {
      await engine.close();
      throw error;
    }
    return engine;
  }

  ensureStream(spec: StreamSpec): Promise<void> {
    return this.exclusive(async () => {
      for (const other of this.streams.values()) {
        if (other.name === spec.name) continue;
        const clash = spec.subjects.find((s) => other.config.subjects.some((o) => patternsOverlap(s, o)));
        if (clash !== undefined) {
          throw new AirlockError('InvalidConfiguration', `Subject '${clash}' overlaps with stream '${other.name}'.`);
        }
      }
      const config = { name: spec.name, subjects: [...spec.subjects], duplicateWindowMs: spec.duplicateWindowMs ?? DEFAULT_DUPLICATE_WINDOW_MS };
      const existing = this.streams.get(spec.name);
      if (existing) {
        if (JSON.stringify(existing.config) !== JSON.stringify(config)) await existing.updateConfig(config);
        return;
      }
      const stream = await StreamLog.create(join(this.dir, 'streams', spec.name), config, (_seq, message) =>
        this.stored(spec.name, message),
      );
      this.streams.set(spec.name, stream);
    });
  }

  async publish(subject: string, data: Uint8Array, headers: Record<string, string>, msgId: string | undefined) {
    const stream = [...this.streams.values()].find((s) => s.config.subjects.some((p) => subjectMatches(p, subject)));
    if (!stream) throw new AirlockError('NotFound', `No stream captures subject '${subject}'.`);
    const { seq, duplicate } = await stream.append(subject, data, headers, msgId);
    return { stream: stream.name, seq, duplicate };
  }

  async fetch(spec: ConsumerSpec, max: number, expiresMs: number, signal: AbortSignal | undefined, owner: object): Promise<DeliveredMessage[]> {
    const runtime = await this.consumer(spec);
    if (signal?.aborted) return [];
    const now = Date.now();
    const taken = runtime.durable.take(runtime.stream, max, now);
    let deliveries = taken.deliveries;
    await taken.persisted;
    if (deliveries.length === 0 && expiresMs > 0) deliveries = await this.wait(runtime, max, expiresMs, signal, owner);
    return Promise.all(
      deliveries.map(async (d) => ({ ...d, stream: spec.stream, durable: spec.durable, message: await runtime.stream.read(d.seq) })),
    );
  }

  ack(stream: string, durable: string, seq: number): Promise<void> {
    return this.consumers.get(`${stream}/${durable}`)?.durable.ack(seq) ?? Promise.resolve();
  }

  term(stream: string, durable: string, seq: number): Promise<void> {
    return this.consumers.get(`${stream}/${durable}`)?.durable.term(seq) ?? Promise.resolve();
  }

  nak(stream: string, durable: string, seq: number, delayMs: number): void {
    const runtime = this.consumers.get(`${stream}/${durable}`);
    if (runtime?.durable.nak(seq, delayMs, Date.now())) this.serve(runtime);
  }

  watch(pattern: string, owner: object, deliver: (message: WatchedMessage) => void, end: () => void): () => void {
    const watcher: Watcher = { owner, pattern, deliver, end };
    this.watchers.add(watcher);
    return () => this.watchers.delete(watcher);
  }

  /** A closing handle's waiting fetches resolve empty and its watches end. */
  release(owner: object): void {
    for (const runtime of this.consumers.values()) {
      for (const waiter of runtime.waiters.filter((w) => w.owner === owner)) waiter.done([]);
    }
    for (const watcher of [...this.watchers]) if (watcher.owner === owner) watcher.end();
  }

  async close(): Promise<void> {
    for (const runtime of this.consumers.values()) {
      clearTimeout(runtime.timer);
      for (const waiter of [...runtime.waiters]) waiter.done([]);
    }
    for (const watcher of [...this.watchers]) watcher.end();
    await this.admin.catch(() => undefined);
    for (const runtime of this.consumers.values()) await runtime.durable.close().catch(() => undefined);
    for (const stream of this.streams.values()) await stream.close().catch(() => undefined);
    await this.unlock();
  }

  private stored(streamName: string, message: StoredMessage): void {
    for (const watcher of this.watchers) {
      if (subjectMatches(watcher.pattern, message.subject)) {
        watcher.deliver({ subject: message.subject, data: message.data, headers: { ...message.headers } });
      }
    }
    for (const runtime of this.consumers.values()) {
      if (runtime.stream.name === streamName && runtime.waiters.length > 0) this.serve(runtime);
    }
  }

  private async consumer(spec: ConsumerSpec): Promise<ConsumerRuntime> {
    const key = `${spec.stream}/${spec.durable}`;
    const config: ConsumerConfig = {
      ...(spec.filterSubject ? { filterSubject: spec.filterSubject } : {}),
      ackWaitMs: spec.ackWaitMs ?? DEFAULT_ACK_WAIT_MS,
      maxDeliver: spec.maxDeliver !== undefined && spec.maxDeliver > 0 ? spec.maxDeliver : -1,
    };
    const current = this.consumers.get(key);
    if (current && sameConfig(current.durable.config, config)) return current;
    return this.exclusive(async () => {
      const stream = this.streams.get(spec.stream);
      if (!stream) throw new AirlockError('NotFound', `Stream '${spec.stream}' does not exist.`);
      if (config.filterSubject && !stream.config.subjects.some((s) => patternsOverlap(s, config.filterSubject ?? ''))) {
        throw new AirlockError('InvalidConfiguration', `Filter '${config.filterSubject}' is outside the subjects of stream '${spec.stream}'.`);
      }
      const existing = this.consumers.get(key);
      if (existing) {
        if (!sameConfig(existing.durable.config, config)) await existing.durable.updateConfig(config);
        return existing;
      }
      const durable = await DurableConsumer.create(join(stream.dir, 'consumers'), spec.durable, config);
      const runtime: ConsumerRuntime = { stream, durable, waiters: [], timer: undefined };
      this.consumers.set(key, runtime);
      return runtime;
    });
  }

  private wait(runtime: ConsumerRuntime, max: number, expiresMs: number, signal: AbortSignal | undefined, owner: object): Promise<Delivery[]> {
    return new Promise((resolve) => {
      let settled = false;
      const waiter: Waiter = {
        owner,
        max,
        done: (deliveries, persisted = Promise.resolve()) => {
          if (settled) return;
          settled = true;
          clearTimeout(expiry);
          signal?.removeEventListener('abort', onAbort);
          const index = runtime.waiters.indexOf(waiter);
          if (index >= 0) runtime.waiters.splice(index, 1);
          resolve(persisted.then(() => deliveries));
        },
      };
      const onAbort = (): void => waiter.done([]);
      const expiry = setTimeout(() => waiter.done([]), expiresMs);
      signal?.addEventListener('abort', onAbort, { once: true });
      runtime.waiters.push(waiter);
      this.armRedelivery(runtime);
    });
  }

  /** Hands available messages to waiting fetches, first come first served. */
  private serve(runtime: ConsumerRuntime): void {
    const now = Date.now();
    for (let waiter = runtime.waiters[0]; waiter; waiter = runtime.waiters[0]) {
      const { deliveries, persisted } = runtime.durable.take(runtime.stream, waiter.max, now);
      if (deliveries.length === 0) break;
      waiter.done(deliveries, persisted);
    }
    this.armRedelivery(runtime);
  }

  private armRedelivery(runtime: ConsumerRuntime): void {
    clearTimeout(runtime.timer);
    runtime.timer = undefined;
    if (runtime.waiters.length === 0) return;
    const next = runtime.durable.nextDueAt();
    if (next === undefined) return;
    runtime.timer = setTimeout(() => this.serve(runtime), Math.max(0, next - Date.now()) + 1);
  }

  private exclusive<T>(task: () => Promise<T>): Promise<T> {
    const result = this.admin.then(task);
    this.admin = result.catch(() => undefined);
    return result;
  }
}

function sameConfig(a: ConsumerConfig, b: ConsumerConfig): boolean {
  return a.ackWaitMs === b.ackWaitMs && a.maxDeliver === b.maxDeliver && (a.filterSubject ?? '') === (b.filterSubject ?? '');
}
