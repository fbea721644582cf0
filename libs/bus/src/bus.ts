/**
 * The message bus as Airlock uses it: JetStream streams with durable pull consumers for work that must not be lost
 * (approval events, session records), and live core subscriptions for things only a present listener cares about.
 * Both drivers (NATS and the embedded one) implement exactly these semantics and pass one contract suite.
 */

export interface StreamSpec {
  name: string;
  subjects: string[];
  /** How long a msgId is remembered for de-duplication; 2 minutes when omitted, like JetStream. */
  duplicateWindowMs?: number;
}

export interface ConsumerSpec {
  stream: string;
  durable: string;
  filterSubject?: string;
  /** 30 s when omitted, like JetStream. */
  ackWaitMs?: number;
  /** Unlimited when omitted or not positive. */
  maxDeliver?: number;
}

export interface PublishOptions {
  msgId?: string;
  headers?: Record<string, string>;
}

export interface PublishAck {
  stream: string;
  /** For a duplicate, the sequence of the message stored first. */
  seq: number;
  duplicate: boolean;
}

export interface ConsumedMessage {
  subject: string;
  data: Uint8Array;
  headers: Record<string, string>;
  /** Stream sequence. */
  seq: number;
  /** 1 on first delivery. */
  deliveryCount: number;
  /** Resolves once the bus has recorded the ack. */
  ack(): Promise<void>;
  nak(delayMs?: number): void;
  term(): void;
}

export interface WatchedMessage {
  subject: string;
  data: Uint8Array;
  headers: Record<string, string>;
}

export interface FetchOptions {
  max: number;
  expiresMs: number;
  /** Aborting ends the wait early; the fetch then resolves with what it has, usually []. */
  signal?: AbortSignal;
}

export interface WatchOptions {
  signal?: AbortSignal;
}

export interface Bus {
  /** Idempotent; updates subjects or the duplicate window of an existing stream. File storage on NATS. */
  ensureStream(spec: StreamSpec): Promise<void>;
  /** Resolves only once the message is durably stored; a repeated msgId within the window is not stored again. */
  publish(subject: string, data: Uint8Array, options?: PublishOptions): Promise<PublishAck>;
  /**
   * Durable pull consumer (created or updated to match `consumer`). Resolves as soon as at least one message is
   * available, with at most `max`; resolves [] when nothing arrives within `expiresMs`.
   */
  fetch(consumer: ConsumerSpec, options: FetchOptions): Promise<ConsumedMessage[]>;
  /** Live and ephemeral: only messages published after the call, nothing replayed, nothing acked. */
  watch(subjectPattern: string, options?: WatchOptions): AsyncIterable<WatchedMessage>;
  /** Waits for in-flight work, ends watches and pending fetches. Idempotent. */
  close(): Promise<void>;
}

export const DEFAULT_DUPLICATE_WINDOW_MS = 120_000;
export const DEFAULT_ACK_WAIT_MS = 30_000;
