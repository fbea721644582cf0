import { AirlockError } from '@airlock/errors';

export function validateKey(key: string): void {
  if (typeof key !== 'string' || key.length === 0) throw new AirlockError('InvalidRequest', 'A state key must be a non-empty string.');
}

export function validateValue(value: string): void {
  if (typeof value !== 'string') throw new AirlockError('InvalidRequest', 'A state value must be a string.');
}

/** Whole milliseconds, at least 1; undefined means no TTL. */
export function ttlOf(ttlMs: number | undefined): number | undefined {
  if (ttlMs === undefined) return undefined;
  if (!Number.isFinite(ttlMs) || ttlMs <= 0) throw new AirlockError('InvalidRequest', `ttlMs must be a positive number, got ${ttlMs}.`);
  return Math.ceil(ttlMs);
}
