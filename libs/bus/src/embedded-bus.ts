import { AirlockError } from '@airlock/errors';
import type {
  Bus,
  ConsumedMessage,
  ConsumerSpec,
  FetchOptions,
  PublishAck,
  PublishOptions,
  StreamSpec,
  WatchedMessage,
  WatchOptions,
} from './bus.js';
import { AsyncQueue } from './embedded/async-queue.js';
import type { DeliveredMessage, Engine } from './embedded/engine.js';
import { acquireEngine } from './embedded/registry.js';
import { validateFetch } from './fetch-options.js';
import { validateHeaders, validateName, validatePattern, validateSubject } from './subjects.js';

export interface EmbeddedBusOptions {
  dataDir: string;
}

/** Like NATS's default pending limit per subscription. */
const WATCH_BUFFER = 65_536;

/**
 * The single-machine bus: streams are append-only files under `dataDir`, with the same semantics as the NATS
 * driver. Buses opened on the same folder in one process share state, like clients of one server; another process
 * using the folder is refused.
 */
export async function createEmbeddedBus(options: EmbeddedBusOptions): Promise<Bus> {
  const { engine, release } = await acquireEngine(options.dataDir);
  return new EmbeddedBus(engine, release);
}

class EmbeddedBus implements Bus {
  private closed = false;
  private closing: Promise<void> | undefined;
  private readonly inflight = new Set<Promise<unknown>>();

  constructor(
    private readonly engine: Engine,
    private readonly releaseEngine: () => Promise<void>,
  ) {}

  async ensureStream(spec: StreamSpec): Promise<void> {
    validateName(spec.name, 'stream');
    if (spec.subjects.length === 0) throw new AirlockError('InvalidRequest', `Stream '${spec.name}' needs at least one subject.`);
    spec.subjects.forEach(validatePattern);
    return this.track(() => this.engine.ensureStream(spec));
  }

  async publish(subject: string, data: Uint8Array, options: PublishOptions = {}): Promise<PublishAck> {
    validateSubject(subject);
    validateHeaders(options.headers);
    // Copy now: the caller may reuse its buffer once publish returns, and watchers get the bytes as published.
    const bytes = Uint8Array.from(data);
    return this.track(() => this.engine.publish(subject, bytes, { ...options.headers }, options.msgId));
  }

  async fetch(consumer: ConsumerSpec, options: FetchOptions): Promise<ConsumedMessage[]> {
    validateFetch(consumer, options);
    if (options.signal?.aborted) return [];
    const delivered = await this.track(() => this.engine.fetch(consumer, options.max, options.expiresMs, options.signal, this));
    return delivered.map((d) => this.toConsumed(d));
  }

  watch(subjectPattern: string, options: WatchOptions = {}): AsyncIterable<WatchedMessage> {
    validatePattern(subjectPattern);
    this.assertOpen();
    const signal = options.signal;
    const onAbort = (): void => queue.end();
    const queue = new AsyncQueue<WatchedMessage>(WATCH_BUFFER, () => {
      unwatch();
      signal?.removeEventListener('abort', onAbort);
    });
    const unwatch = this.engine.watch(subjectPattern, this, (m) => queue.push(m), () => queue.end());
    if (signal?.aborted) queue.end();
    else signal?.addEventListener('abort', onAbort, { once: true });
    return queue;
  }

  close(): Promise<void> {
    this.closing ??= (async () => {
      this.closed = true;
      this.engine.release(this);
      await Promise.allSettled([...this.inflight]);
      await this.releaseEngine();
    })();
    return this.closing;
  }

  private toConsumed(d: DeliveredMessage): ConsumedMessage {
    return {
      subject: d.message.subject,
      data: d.message.data,
      headers: { ...d.message.headers },
      seq: d.seq,
      deliveryCount: d.deliveryCount,
      ack: () => this.track(() => this.engine.ack(d.stream, d.durable, d.seq)),
      nak: (delayMs?: number) => {
        if (!this.closed) this.engine.nak(d.stream, d.durable, d.seq, delayMs ?? 0);
      },
      term: () => {
        if (!this.closed) this.track(() => this.engine.term(d.stream, d.durable, d.seq)).catch(() => undefined);
      },
    };
  }

  /** Refuses work after close and lets close wait for work already started. */
  private track<T>(work: () => Promise<T>): Promise<T> {
    try {
      this.assertOpen();
    } catch (error) {
      return Promise.reject(error);
    }
    const promise = work();
    this.inflight.add(promise);
    const forget = (): void => {
      this.inflight.delete(promise);
    };
    promise.then(forget, forget);
    return promise;
  }

  private assertOpen(): void {
    if (this.closed) throw new AirlockError('DependencyUnavailable', 'The embedded bus is closed.');
  }
}
