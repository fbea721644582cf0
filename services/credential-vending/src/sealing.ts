import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { AirlockError } from '@airlock/errors';

/**
 * AES-256-GCM for values credential vending keeps in the shared state store. Keys come as
 * `kid:base64key[,kid:base64key…]`: the first key seals, every listed key opens, so a key is rotated by putting the
 * new one first and dropping the old one once its entries have expired (at most the credentials' lifetime).
 *
 * A sealed value is `v1.<kid>.<iv>.<ciphertext>.<tag>` (base64url parts). The store key is bound in as additional
 * authenticated data, so an entry copied to another key does not open.
 */
export interface KeyRing {
  /** The id of the key that seals; never the key itself. */
  readonly sealingKeyId: string;
  readonly keyIds: readonly string[];
  seal(plaintext: string, context: string): string;
  /** The plaintext, or undefined when the value is not sealed by a key in the ring or was altered. */
  open(sealed: string, context: string): string | undefined;
}

const keyIdPattern = /^[A-Za-z0-9_-]{1,64}$/;
const ivBytes = 12;
// Fixed, so a truncated tag is refused rather than checked on fewer bytes.
const tagBytes = 16;
const format = 'v1';

export function parseKeyRing(spec: string, source: string): KeyRing {
  const keys = new Map<string, Buffer>();
  const entries = spec.split(',').map((entry) => entry.trim()).filter((entry) => entry.length > 0);
  if (entries.length === 0) throw invalid(source, 'it is empty');
  for (const entry of entries) {
    const colon = entry.indexOf(':');
    const kid = colon > 0 ? entry.slice(0, colon) : '';
    // Messages name the key id and the position only: never the key material.
    if (!keyIdPattern.test(kid)) throw invalid(source, 'each entry must be kid:base64key with a kid of letters, digits, "_" or "-"');
    const key = Buffer.from(entry.slice(colon + 1), 'base64');
    if (key.length !== 32) throw invalid(source, `key "${kid}" must be 32 bytes, base64-encoded`);
    if (keys.has(kid)) throw invalid(source, `key id "${kid}" appears twice`);
    keys.set(kid, key);
  }
  const keyIds = [...keys.keys()];
  const sealingKeyId = keyIds[0]!;
  const sealingKey = keys.get(sealingKeyId)!;
  return {
    sealingKeyId,
    keyIds,
    seal(plaintext, context) {
      const iv = randomBytes(ivBytes);
      const cipher = createCipheriv('aes-256-gcm', sealingKey, iv, { authTagLength: tagBytes });
      cipher.setAAD(Buffer.from(context, 'utf8'));
      const ciphertext = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
      return [format, sealingKeyId, iv.toString('base64url'), ciphertext.toString('base64url'), cipher.getAuthTag().toString('base64url')].join('.');
    },
    open(sealed, context) {
      const parts = sealed.split('.');
      if (parts.length !== 5 || parts[0] !== format) return undefined;
      const key = keys.get(parts[1]!);
      if (!key) return undefined;
      try {
        const decipher = createDecipheriv('aes-256-gcm', key, Buffer.from(parts[2]!, 'base64url'), { authTagLength: tagBytes });
        decipher.setAAD(Buffer.from(context, 'utf8'));
        decipher.setAuthTag(Buffer.from(parts[4]!, 'base64url'));
        return Buffer.concat([decipher.update(Buffer.from(parts[3]!, 'base64url')), decipher.final()]).toString('utf8');
      } catch {
        return undefined;
      }
    },
  };
}

function invalid(source: string, why: string): AirlockError {
  return new AirlockError('InvalidConfiguration', `The credential cache key in ${source} is not usable: ${why}.`);
}
