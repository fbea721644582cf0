import { createHmac, randomBytes } from 'node:crypto';
import { replacementFor } from './detector.js';

/**
 * What happens to a masked value:
 * - redact: `[MASKED:<kind>]`
 * - keep-last: `[MASKED:<kind>]` followed by the value's last `n` characters (never more than a quarter of the value)
 * - pseudonym: `[MASKED:<kind>:<8 hex>]`, the first 8 hex digits of HMAC-SHA256(deployment key, value), so equal values
 *   look equal within a deployment and nothing else can be learnt
 * - drop: the JSON member or XML element disappears (field rules only; for detector matches it means redact)
 */
export type Operator = { op: 'redact' } | { op: 'keep-last'; n: number } | { op: 'pseudonym' } | { op: 'drop' };

export const redact: Operator = { op: 'redact' };

/** Environment variable holding the pseudonym key (any text; 32 random bytes, hex or base64, recommended). */
export const pseudonymKeyEnv = 'AIRLOCK_MASKING_KEY';

let processKey: Buffer | undefined;
/**
 * The deployment's pseudonym key: from `AIRLOCK_MASKING_KEY`; without it a random key for this process, so that
 * pseudonyms are stable within the process but never guessable.
 */
export function pseudonymKey(env: NodeJS.ProcessEnv = process.env): Buffer {
  const configured = env[pseudonymKeyEnv];
  if (configured) return Buffer.from(configured, 'utf8');
  processKey ??= randomBytes(32);
  return processKey;
}

export function pseudonym(kind: string, value: string, key: Buffer): string {
  return `[MASKED:${kind}:${createHmac('sha256', key).update(value, 'utf8').digest('hex').slice(0, 8)}]`;
}

/** The replacement of a whole, decoded value (the caller encodes it for JSON or XML). */
export function applyOperator(operator: Operator, kind: string, value: string, key: Buffer): string {
  switch (operator.op) {
    case 'keep-last': {
      const chars = [...value];
      const keep = Math.min(operator.n, Math.floor(chars.length / 4));
      return replacementFor(kind) + (keep > 0 ? chars.slice(-keep).join('') : '');
    }
    case 'pseudonym':
      return pseudonym(kind, value, key);
    default:
      return replacementFor(kind);
  }
}
