import { randomBytes } from 'node:crypto';

/**
 * Airlock access key ids: 'ALSA' and 16 base32 characters (80 random bits). AWS issues AKIA, ASIA, AIDA and similar
 * prefixes (IAM User Guide, "Unique identifier prefixes") but never ALSA, so an Airlock key is recognisable at a glance,
 * cannot be mistaken for an AWS key by secret scanners that know AWS prefixes, and is worthless against AWS.
 */
const PREFIX = 'ALSA';
const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';
const PATTERN = /^ALSA[A-Z2-7]{16}$/;

export function newAccessKeyId(): string {
  const bytes = randomBytes(10);
  let bits = 0;
  let buffer = 0;
  let out = PREFIX;
  for (const byte of bytes) {
    buffer = ((buffer << 8) | byte) & 0xffff;
    bits += 8;
    while (bits >= 5) {
      bits -= 5;
      out += ALPHABET[(buffer >> bits) & 31];
    }
  }
  return out;
}

export function isSessionAccessKeyId(value: string): boolean {
  return PATTERN.test(value);
}
