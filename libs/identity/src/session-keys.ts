import { createHmac, hkdfSync } from 'node:crypto';
import { AirlockError } from '@airlock/errors';
import type { SessionKeyRing } from './session-types.js';

const MIN_SECRET_BYTES = 32;
const KEY_ID = /^[A-Za-z0-9._-]{1,64}$/;
const BASE64 = /^[A-Za-z0-9+/_-]+={0,2}$/;
/** Labels that keep the two uses of a server key apart: no output of one can stand in for the other. */
const TOKEN_KEY_INFO = 'airlock-session-token-signing-key';
const SECRET_LABEL = 'airlock-session-secret:';
const SECRET_LENGTH = 40;

/** The keys of one ring entry, derived once. */
export interface SessionKey {
  id: string;
  /** HS256 key for session tokens: HKDF-SHA256 of the server key, so the server key itself never signs anything. */
  tokenKey: Uint8Array;
  /** The secret access key that belongs to an access key id under this server key. */
  secretFor(accessKeyId: string): string;
}

export function deriveSessionKeys(ring: SessionKeyRing): { current: SessionKey; byId: ReadonlyMap<string, SessionKey> } {
  const entries = [ring.current, ...(ring.previous ?? [])];
  const byId = new Map<string, SessionKey>();
  for (const entry of entries) {
    if (!KEY_ID.test(entry.id)) throw new AirlockError('InvalidConfiguration', `session key id ${JSON.stringify(entry.id.slice(0, 64))} must be 1-64 characters of A-Z, a-z, 0-9, '.', '_' or '-'`);
    if (byId.has(entry.id)) throw new AirlockError('InvalidConfiguration', `session key id ${entry.id} appears twice in the key ring`);
    if (entry.secret.byteLength < MIN_SECRET_BYTES) throw new AirlockError('InvalidConfiguration', `session key ${entry.id} is shorter than ${MIN_SECRET_BYTES} bytes`);
    byId.set(entry.id, deriveKey(entry.id, Uint8Array.from(entry.secret)));
  }
  return { current: byId.get(ring.current.id) as SessionKey, byId };
}

function deriveKey(id: string, secret: Uint8Array): SessionKey {
  const tokenKey = new Uint8Array(hkdfSync('sha256', secret, new Uint8Array(0), TOKEN_KEY_INFO, 32));
  return {
    id,
    tokenKey,
    // As specified for Airlock: base64url(HMAC-SHA256(server key, 'airlock-session-secret:' + access key id)), 40
    // characters (240 bits), the length of an AWS secret access key.
    secretFor: (accessKeyId) => createHmac('sha256', secret).update(`${SECRET_LABEL}${accessKeyId}`, 'utf8').digest('base64url').slice(0, SECRET_LENGTH),
  };
}

/**
 * Reads a key ring from configuration (an environment variable): "kid1:base64secret[,kid0:base64secret...]". The first
 * key issues; the others only open sessions they issued before a rotation. Messages name key ids, never secrets.
 */
export function parseSessionKeyRing(value: string): SessionKeyRing {
  const entries = value.split(',').map((part) => part.trim()).filter((part) => part !== '');
  if (entries.length === 0) throw new AirlockError('InvalidConfiguration', 'the session key ring is empty: expected "kid:base64secret[,kid:base64secret...]"');
  const keys = entries.map((entry, index) => {
    const colon = entry.indexOf(':');
    const id = colon === -1 ? '' : entry.slice(0, colon).trim();
    const encoded = colon === -1 ? '' : entry.slice(colon + 1).trim();
    if (id === '' || encoded === '') throw new AirlockError('InvalidConfiguration', `session key ring entry ${index + 1} is not "kid:base64secret"`);
    if (!BASE64.test(encoded)) throw new AirlockError('InvalidConfiguration', `session key ${id} is not valid base64`);
    return { id, secret: new Uint8Array(Buffer.from(encoded, 'base64')) };
  });
  const [current, ...previous] = keys as [SessionKeyRing['current'], ...SessionKeyRing['current'][]];
  const ring: SessionKeyRing = previous.length === 0 ? { current } : { current, previous };
  deriveSessionKeys(ring); // validates ids, uniqueness and lengths now, at startup
  return ring;
}
