import {
  AckPolicy,
  DeliverPolicy,
  NatsError,
  StorageType,
  connect,
  headers as natsHeaders,
  nanos,
  type ConsumerConfig,
  type JetStreamClient,
  type JetStreamManager,
  type NatsConnection,
} from 'nats';
import { AirlockError } from '@airlock/errors';
import { traceHeaders } from '@airlock/telemetry';
import {
  DEFAULT_ACK_WAIT_MS,
  DEFAULT_DUPLICATE_WINDOW_MS,
  type Bus,
  type ConsumedMessage,
  type ConsumerSpec,
  type FetchOptions,
  type PublishAck,
  type PublishOptions,
  type StreamSpec,
  type WatchedMessage,
  type WatchOptions,
} from './bus.js';
import { JS_CONSUMER_NOT_FOUND, JS_STREAM_NOT_FOUND, apiErrorCode, describeServers, fromNatsError, isNoResponders } from './nats-errors.js';
import { userHeaders } from './nats-message.js';
import { pullOnce } from './nats-pull.js';
import { validateFetch } from './fetch-options.js';
import { validateHeaders, validateName, validatePattern, validateSubject } from './subjects.js';

export interface NatsBusOptions {
  servers: string | string[];
  name?: string;
  connectTimeoutMs?: number;
}

export async function createNatsBus(options: NatsBusOptions): Promise<Bus> {
  const server = describeServers(options.servers);
  let nc: NatsConnection;
  try {
    nc = await connect({
      servers: options.servers,
      name: options.name ?? 'airlock',
      timeout: options.connectTimeoutMs ?? 5_000,
      // Once connected, ride out server restarts; each call still fails on its own timeout meanwhile.
      maxReconnectAttempts: -1,
      reconnectTimeWait: 500,
    });
  } catch (cause) {
    throw new AirlockError('DependencyUnavailable', `NATS at ${server} is unreachable.`, { cause });
  }
  let jsm: JetStreamManager;
  try {
    jsm = await nc.jetstreamManager();
  } catch (cause) {
    await nc.close().catch(() => undefined);
    throw new AirlockError('DependencyUnavailable', `JetStream is not available at ${server} (is the server started with -js?).`, { cause });
  }
  return new NatsBus(nc, jsm, server);
}

class NatsBus implements Bus {
  private readonly js: JetStreamClient;
  /** Consumers known to match their last spec, so that a fetch loop does not ask the server every time. */
  private readonly consumers = new Map<string, string>();
  private closing: Promise<void> | undefined;

  constructor(
    private readonly nc: NatsConnection,
    private readonly jsm: JetStreamManager,
    private readonly server: string,
  ) {
    this.js = nc.jetstream();
  }

  async ensureStream(spec: StreamSpec): Promise<void> {
    validateName(spec.name, 'stream');
    if (spec.subjects.length === 0) throw new AirlockError('InvalidRequest', `Stream '${spec.name}' needs at least one subject.`);
    spec.subjects.forEach(validatePattern);
    const duplicateWindow = nanos(spec.duplicateWindowMs ?? DEFAULT_DUPLICATE_WINDOW_MS);
    try {
      let existing;
      try {
        existing = await this.jsm.streams.info(spec.name);
      } catch (error) {
        if (apiErrorCode(error) !== JS_STREAM_NOT_FOUND) throw error;
      }
      if (!existing) {
        await this.jsm.streams.add({
          name: spec.name,
          subjects: spec.subjects,
          storage: StorageType.File,
          duplicate_window: duplicateWindow,
        });
        return;
      }
      const same =
        sameSet(existing.config.subjects ?? [], spec.subjects) && existing.config.duplicate_window === duplicateWindow;
      if (!same) {
        await this.jsm.streams.update(spec.name, { ...existing.config, subjects: spec.subjects, duplicate_window: duplicateWindow });
      }
    } catch (error) {
      throw fromNatsError(error, this.server, `ensureStream ${spec.name}`);
    }
  }

  async publish(subject: string, data: Uint8Array, options: PublishOptions = {}): Promise<PublishAck> {
    validateSubject(subject);
    validateHeaders(options.headers);
    // The publisher's trace context (W3C traceparent) travels with the message, so consumers can link to it.
    const entries = Object.entries({ ...traceHeaders(), ...options.headers });
    const h = entries.length > 0 ? natsHeaders() : undefined;
    for (const [name, value] of entries) h?.set(name, value);
    try {
      const ack = await this.js.publish(subject, data, {
        ...(options.msgId === undefined ? {} : { msgID: options.msgId }),
        ...(h ? { headers: h } : {}),
      });
      return { stream: ack.stream, seq: ack.seq, duplicate: ack.duplicate };
    } catch (error) {
      if (isNoResponders(error) && !this.nc.isClosed()) throw await this.whyNoResponders(subject, error);
      throw fromNatsError(error, this.server, `publish ${subject}`);
    }
  }

  async fetch(consumer: ConsumerSpec, options: FetchOptions): Promise<ConsumedMessage[]> {
    validateFetch(consumer, options);
    if (this.nc.isClosed()) throw new AirlockError('DependencyUnavailable', `NATS connection to ${this.server} is closed.`);
    if (options.signal?.aborted) return [];
    for (let attempt = 0; ; attempt++) {
      await this.ensureConsumer(consumer);
      const result = await pullOnce(this.nc, this.server, consumer.stream, consumer.durable, options.max, options.expiresMs, options.signal);
      if (!result.missingConsumer) return result.messages;
      // Deleted behind our back (or the server lost it): create it again once, then report.
      this.consumers.delete(consumerKey(consumer));
      if (attempt > 0) {
        throw new AirlockError('DependencyUnavailable', `JetStream at ${this.server} did not answer for consumer ${consumer.stream}/${consumer.durable}.`);
      }
    }
  }

  watch(subjectPattern: string, options: WatchOptions = {}): AsyncIterable<WatchedMessage> {
    validatePattern(subjectPattern);
    if (this.nc.isClosed()) throw new AirlockError('DependencyUnavailable', `NATS connection to ${this.server} is closed.`);
    // Subscribe now, not on first iteration, so that nothing published after watch() returns is missed.
    const sub = this.nc.subscribe(subjectPattern);
    const signal = options.signal;
    const onAbort = (): void => sub.unsubscribe();
    if (signal?.aborted) sub.unsubscribe();
    else signal?.addEventListener('abort', onAbort, { once: true });
    // One iterator, like the subscription behind it: a second for-await continues where the first stopped.
    return (async function* () {
      try {
        for await (const msg of sub) {
          yield { subject: msg.subject, data: msg.data, headers: userHeaders(msg.headers) };
        }
      } finally {
        signal?.removeEventListener('abort', onAbort);
        sub.unsubscribe();
      }
    })();
  }

  close(): Promise<void> {
    this.closing ??= (async () => {
      if (this.nc.isClosed()) return;
      try {
        await this.nc.drain();
      } catch {
        await this.nc.close().catch(() => undefined);
      }
    })();
    return this.closing;
  }

  /**
   * "No responders" to a publish means either that no stream captures the subject (a mistake to report as such)
   * or that JetStream is not ready yet, for example just after a server restart (worth a retry).
   */
  private async whyNoResponders(subject: string, error: unknown): Promise<AirlockError> {
    try {
      await this.jsm.streams.find(subject);
    } catch (lookup) {
      if (!(lookup instanceof NatsError)) return new AirlockError('NotFound', `No stream captures subject '${subject}'.`, { cause: error });
      return fromNatsError(lookup, this.server, `publish ${subject}`);
    }
    return new AirlockError('DependencyUnavailable', `JetStream at ${this.server} did not answer for subject '${subject}'.`, { cause: error });
  }

  private async ensureConsumer(spec: ConsumerSpec): Promise<void> {
    const key = consumerKey(spec);
    const wanted: Partial<ConsumerConfig> = {
      durable_name: spec.durable,
      ack_policy: AckPolicy.Explicit,
      deliver_policy: DeliverPolicy.All,
      ack_wait: nanos(spec.ackWaitMs ?? DEFAULT_ACK_WAIT_MS),
      max_deliver: spec.maxDeliver !== undefined && spec.maxDeliver > 0 ? spec.maxDeliver : -1,
      ...(spec.filterSubject ? { filter_subject: spec.filterSubject } : {}),
    };
    const signature = JSON.stringify(wanted);
    if (this.consumers.get(key) === signature) return;
    try {
      let existing;
      try {
        existing = await this.jsm.consumers.info(spec.stream, spec.durable);
      } catch (error) {
        const code = apiErrorCode(error);
        if (code === JS_STREAM_NOT_FOUND) throw new AirlockError('NotFound', `Stream '${spec.stream}' does not exist.`, { cause: error });
        if (code !== JS_CONSUMER_NOT_FOUND) throw error;
      }
      if (!existing) {
        await this.jsm.consumers.add(spec.stream, wanted);
      } else {
        const c = existing.config;
        const same =
          c.ack_wait === wanted.ack_wait &&
          (c.max_deliver ?? -1) === wanted.max_deliver &&
          (c.filter_subject ?? '') === (wanted.filter_subject ?? '');
        if (!same) {
          await this.jsm.consumers.update(spec.stream, spec.durable, {
            ack_wait: wanted.ack_wait,
            max_deliver: wanted.max_deliver,
            ...(wanted.filter_subject ? { filter_subject: wanted.filter_subject } : {}),
          });
        }
      }
      this.consumers.set(key, signature);
    } catch (error) {
      throw fromNatsError(error, this.server, `consumer ${spec.stream}/${spec.durable}`);
    }
  }
}

function consumerKey(spec: ConsumerSpec): string {
  return `${spec.stream}/${spec.durable}`;
}

function sameSet(a: string[], b: string[]): boolean {
  return a.length === b.length && a.every((x) => b.includes(x));
}
