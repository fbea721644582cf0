import { randomUUID } from 'node:crypto';
import { decodeProtectedHeader, errors, jwtVerify, SignJWT, type JWTPayload } from 'jose';
import { AirlockError } from '@airlock/errors';
import { isSessionAccessKeyId, newAccessKeyId } from './access-key-id.js';
import { deriveSessionKeys, type SessionKey } from './session-keys.js';
import type { SessionClaims, SessionCredentials, SessionKeyRing } from './session-types.js';

/** Makes a session token recognisable in a header dump, and lets `open` refuse anything else at once. */
const TOKEN_PREFIX = 'airlock.';
const TOKEN_TYPE = 'airlock-session+jwt';
const TOKEN_ISSUER = 'urn:airlock:session';
const MAX_TOKEN_LENGTH = 16 * 1024;
/** Tokens whose signature was checked, remembered per authority (the oldest go first beyond this many). */
const VERIFIED_TOKENS = 10_000;

// The messages AWS gives for InvalidClientTokenId and ExpiredToken, so SDKs and people recognise them.
const INVALID_TOKEN = 'The security token included in the request is invalid.';
const EXPIRED_TOKEN = 'The security token included in the request is expired.';

type IssueInput = Omit<SessionClaims, 'sessionId' | 'accessKeyId' | 'issuedAt'>;

/**
 * Issues and opens Airlock session credentials. They are self-contained: the session token is a JWS (HS256, keyed by a
 * derivation of a server key named by its kid) carrying the claims, and the secret access key is derived from the server
 * key and the access key id. Any edge holding the key ring can therefore check a request without a database; nothing
 * needs to be stored, and a rotated-out key ends every session it issued.
 */
export function createSessionAuthority(keys: SessionKeyRing): {
  issue(input: IssueInput, now?: Date): Promise<{ credentials: SessionCredentials; claims: SessionClaims }>;
  open(accessKeyId: string, sessionToken: string, now?: Date): Promise<{ claims: SessionClaims; secretAccessKey: string }>;
} {
  const { current, byId } = deriveSessionKeys(keys);
  // Every call of a session presents the same token: its signature is checked once (an HMAC through WebCrypto cost a
  // tenth of an edge's CPU per call) and the exact token string is remembered with what it opened to. Expiry and the
  // access key binding are still checked on every call; a new key ring makes a new authority, and so a new memory.
  const verified = new Map<string, { claims: SessionClaims; secretAccessKey: string }>();

  return {
    async issue(input, now = new Date()) {
      checkInput(input);
      // JWT times are whole seconds; rounding here makes the returned claims equal to what `open` reads back.
      const issuedAt = wholeSeconds(now);
      const expiresAt = wholeSeconds(input.expiresAt);
      if (expiresAt.getTime() <= issuedAt.getTime()) throw new AirlockError('InvalidRequest', 'A session must expire after the time it is issued.');

      const accessKeyId = newAccessKeyId();
      const claims: SessionClaims = {
        sessionId: randomUUID(),
        subject: input.subject,
        issuer: input.issuer,
        groups: [...input.groups],
        ...(input.name === undefined ? {} : { name: input.name }),
        roleArn: input.roleArn,
        roleSessionName: input.roleSessionName,
        accessKeyId,
        issuedAt,
        expiresAt,
      };
      const jws = await new SignJWT({
        akid: accessKeyId,
        idp: claims.issuer,
        grp: claims.groups,
        role: claims.roleArn,
        rsn: claims.roleSessionName,
        ...(claims.name === undefined ? {} : { name: claims.name }),
      })
        .setProtectedHeader({ alg: 'HS256', typ: TOKEN_TYPE, kid: current.id })
        .setIssuer(TOKEN_ISSUER)
        .setSubject(claims.subject)
        .setJti(claims.sessionId)
        .setIssuedAt(seconds(issuedAt))
        .setExpirationTime(seconds(expiresAt))
        .sign(current.tokenKey);

      return {
        credentials: { accessKeyId, secretAccessKey: current.secretFor(accessKeyId), sessionToken: `${TOKEN_PREFIX}${jws}`, expiration: expiresAt },
        claims,
      };
    },

    async open(accessKeyId, sessionToken, now = new Date()) {
      if (typeof accessKeyId !== 'string' || !isSessionAccessKeyId(accessKeyId)) {
        throw new AirlockError('UnknownAccessKey', 'The access key ID is not an Airlock session key: use the credentials Airlock issued through AssumeRoleWithWebIdentity.');
      }
      if (typeof sessionToken !== 'string' || !sessionToken.startsWith(TOKEN_PREFIX) || sessionToken.length > MAX_TOKEN_LENGTH) {
        throw new AirlockError('UnknownAccessKey', `${INVALID_TOKEN} It is not an Airlock session token.`);
      }
      const known = verified.get(sessionToken);
      if (known) return checked(known.claims, known.secretAccessKey, accessKeyId, now);
      const jws = sessionToken.slice(TOKEN_PREFIX.length);
      const key = keyFor(jws);

      let payload: JWTPayload;
      try {
        ({ payload } = await jwtVerify(jws, key.tokenKey, {
          algorithms: ['HS256'],
          issuer: TOKEN_ISSUER,
          typ: TOKEN_TYPE,
          currentDate: now,
          requiredClaims: ['sub', 'jti', 'iat', 'exp'],
        }));
      } catch (error) {
        if (error instanceof errors.JWTExpired) throw new AirlockError('ExpiredSession', `${EXPIRED_TOKEN} Request new credentials from Airlock.`);
        throw new AirlockError('UnknownAccessKey', INVALID_TOKEN);
      }

      const claims = readClaims(payload);
      const secretAccessKey = key.secretFor(claims.accessKeyId);
      if (verified.size >= VERIFIED_TOKENS) verified.delete(verified.keys().next().value!);
      verified.set(sessionToken, { claims, secretAccessKey });
      return checked(claims, secretAccessKey, accessKeyId, now);
    },
  };

  /** What an authentic token opens to, for this access key id at this time. */
  function checked(claims: SessionClaims, secretAccessKey: string, accessKeyId: string, now: Date): { claims: SessionClaims; secretAccessKey: string } {
    if (claims.expiresAt.getTime() <= now.getTime()) throw new AirlockError('ExpiredSession', `${EXPIRED_TOKEN} Request new credentials from Airlock.`);
    // The token is bound to one access key id: a token lifted from one session cannot vouch for another key.
    if (claims.accessKeyId !== accessKeyId) throw new AirlockError('UnknownAccessKey', `${INVALID_TOKEN} It belongs to a different access key ID.`);
    return { claims: { ...claims, groups: [...claims.groups] }, secretAccessKey };
  }

  function keyFor(jws: string): SessionKey {
    let kid: unknown;
    try {
      ({ kid } = decodeProtectedHeader(jws));
    } catch {
      throw new AirlockError('UnknownAccessKey', INVALID_TOKEN);
    }
    const key = typeof kid === 'string' ? byId.get(kid) : undefined;
    if (!key) throw new AirlockError('UnknownAccessKey', `${INVALID_TOKEN} It was issued under a key Airlock no longer holds; request new credentials.`);
    return key;
  }
}

function readClaims(payload: JWTPayload): SessionClaims {
  const { sub, jti, iat, exp, akid, idp, grp, role, rsn, name } = payload as Record<string, unknown>;
  const valid = typeof sub === 'string' && typeof jti === 'string' && typeof iat === 'number' && typeof exp === 'number'
    && typeof akid === 'string' && typeof idp === 'string' && typeof role === 'string' && typeof rsn === 'string'
    && Array.isArray(grp) && grp.every((group) => typeof group === 'string') && (name === undefined || typeof name === 'string');
  // Only Airlock can sign these tokens, so a bad shape means a bug or a key leak: refuse it either way.
  if (!valid) throw new AirlockError('UnknownAccessKey', INVALID_TOKEN);
  return {
    sessionId: jti,
    subject: sub,
    issuer: idp,
    groups: [...(grp as string[])],
    ...(name === undefined ? {} : { name }),
    roleArn: role,
    roleSessionName: rsn,
    accessKeyId: akid,
    issuedAt: new Date(iat * 1000),
    expiresAt: new Date(exp * 1000),
  };
}

function checkInput(input: IssueInput): void {
  const strings = { subject: input.subject, issuer: input.issuer, roleArn: input.roleArn, roleSessionName: input.roleSessionName };
  for (const [field, value] of Object.entries(strings)) {
    if (typeof value !== 'string' || value === '') throw new AirlockError('InvalidRequest', `A session needs a non-empty ${field}.`);
  }
  if (!Array.isArray(input.groups) || !input.groups.every((group) => typeof group === 'string')) {
    throw new AirlockError('InvalidRequest', 'A session\'s groups must be a list of strings.');
  }
  if (!(input.expiresAt instanceof Date) || Number.isNaN(input.expiresAt.getTime())) throw new AirlockError('InvalidRequest', 'A session needs a valid expiry time.');
}

function wholeSeconds(date: Date): Date {
  return new Date(Math.floor(date.getTime() / 1000) * 1000);
}

function seconds(date: Date): number {
  return Math.floor(date.getTime() / 1000);
}
