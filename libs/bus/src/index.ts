export type {
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
export { DEFAULT_ACK_WAIT_MS, DEFAULT_DUPLICATE_WINDOW_MS } from './bus.js';
export { createNatsBus, type NatsBusOptions } from './nats-bus.js';
export { createEmbeddedBus, type EmbeddedBusOptions } from './embedded-bus.js';
export { subjectMatches } from './subjects.js';
