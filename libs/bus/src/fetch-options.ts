import { AirlockError } from '@airlock/errors';
import type { ConsumerSpec, FetchOptions } from './bus.js';
import { validateName, validatePattern } from './subjects.js';

export function validateFetch(consumer: ConsumerSpec, options: FetchOptions): void {
  validateName(consumer.stream, 'stream');
  validateName(consumer.durable, 'durable');
  if (consumer.filterSubject) validatePattern(consumer.filterSubject);
  if (!Number.isSafeInteger(options.max) || options.max < 1) {
    throw new AirlockError('InvalidRequest', `fetch max must be a positive integer, got ${options.max}.`);
  }
  if (!Number.isFinite(options.expiresMs) || options.expiresMs < 0) {
    throw new AirlockError('InvalidRequest', `fetch expiresMs must be zero or more, got ${options.expiresMs}.`);
  }
  if (consumer.ackWaitMs !== undefined && !(consumer.ackWaitMs > 0)) {
    throw new AirlockError('InvalidRequest', `ackWaitMs must be positive, got ${consumer.ackWaitMs}.`);
  }
}
