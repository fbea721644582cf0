import { decodeJwt, decodeProtectedHeader, errors, jwtVerify, type JWTPayload, type JWTVerifyGetKey } from 'jose';
import { AirlockError } from '@airlock/errors';
import { createIssuerKeys } from './issuer-keys.js';
import type { IssuerConfig, VerifiedIdentity } from './oidc-types.js';

/** Identity tokens are a few KiB at most; anything larger is refused before any parsing or key lookup. */
const MAX_TOKEN_LENGTH = 16 * 1024;
const DEFAULT_ALGORITHMS = ['RS256', 'RS384', 'RS512', 'ES256', 'ES384', 'PS256', 'EdDSA'];
/**
 * Asymmetric algorithms only. 'none' would accept unsigned tokens, and an HMAC algorithm would let anyone holding the
 * verification key (or a public key misread as an HMAC secret) mint tokens.
 */
const PERMITTED_ALGORITHMS: ReadonlySet<string> = new Set(['RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512', 'ES256', 'ES384', 'ES512', 'EdDSA', 'Ed25519']);
const KEPT_CLAIMS = ['iss', 'sub', 'aud', 'exp', 'iat', 'email', 'name'] as const;

interface Issuer {
  issuer: string;
  audiences: string[];
  algorithms: string[];
  groupsClaim: string;
  clockToleranceSec: number;
  keys: JWTVerifyGetKey;
}

/**
 * Verifies OIDC identity tokens (ID tokens or JWT access tokens) from the configured issuers. The token's `iss` picks the
 * issuer, read before anything is trusted; the signature is then checked with that issuer's keys only, with its audience
 * and algorithms. Throws InvalidIdentityToken, ExpiredIdentityToken or IdpUnreachable, with messages a client can act on.
 */
export function createTokenVerifier(
  issuers: IssuerConfig[],
  options: { fetch?: typeof fetch } = {},
): { verify(token: string, now?: Date): Promise<VerifiedIdentity> } {
  const byIssuer = new Map<string, Issuer>();
  for (const config of issuers) {
    if (byIssuer.has(config.issuer)) throw new AirlockError('InvalidConfiguration', `identity issuer ${config.issuer} is configured twice`);
    byIssuer.set(config.issuer, toIssuer(config, options.fetch));
  }

  return {
    async verify(token, now = new Date()) {
      const candidate = typeof token === 'string' ? token.trim() : '';
      const { header, payload } = peek(candidate);
      const issuer = selectIssuer(payload);
      const alg = header.alg;
      if (alg === undefined || alg === 'none') throw invalid('The identity token is not signed (alg "none"); Airlock accepts only signed tokens.');
      if (!issuer.algorithms.includes(alg)) {
        throw invalid(`The identity token is signed with ${quote(alg)}, which Airlock does not accept from this issuer (accepted: ${issuer.algorithms.join(', ')}).`);
      }

      let verified: JWTPayload;
      try {
        ({ payload: verified } = await jwtVerify(candidate, issuer.keys, {
          issuer: issuer.issuer,
          audience: issuer.audiences,
          algorithms: issuer.algorithms,
          clockTolerance: issuer.clockToleranceSec,
          currentDate: now,
          requiredClaims: ['sub', 'exp'],
        }));
      } catch (error) {
        throw explain(error, issuer);
      }
      return toIdentity(verified, issuer);
    },
  };

  function selectIssuer(payload: JWTPayload): Issuer {
    if (typeof payload.iss !== 'string') throw invalid('The identity token has no issuer (iss) claim.');
    const issuer = byIssuer.get(payload.iss);
    if (!issuer) throw invalid(`The identity token's issuer ${quote(payload.iss)} is not one Airlock trusts.`);
    return issuer;
  }
}

function toIssuer(config: IssuerConfig, fetchImpl: typeof fetch | undefined): Issuer {
  const problem = (text: string) => new AirlockError('InvalidConfiguration', `identity issuer ${config.issuer}: ${text}`);
  if (!isHttpUrl(config.issuer)) throw problem('the issuer must be an http(s) URL');
  if (config.jwksUri !== undefined && !isHttpUrl(config.jwksUri)) throw problem('jwksUri must be an http(s) URL');
  const audiences = typeof config.audience === 'string' ? [config.audience] : [...config.audience];
  if (audiences.length === 0 || audiences.some((audience) => typeof audience !== 'string' || audience === '')) throw problem('audience must name at least one non-empty audience');
  const algorithms = config.algorithms ?? DEFAULT_ALGORITHMS;
  const refused = algorithms.filter((alg) => !PERMITTED_ALGORITHMS.has(alg));
  if (algorithms.length === 0 || refused.length > 0) {
    throw problem(`algorithms must be asymmetric JWS algorithms (${[...PERMITTED_ALGORITHMS].join(', ')}); refused: ${refused.join(', ') || 'an empty list'}`);
  }
  const clockToleranceSec = config.clockToleranceSec ?? 60;
  if (!Number.isFinite(clockToleranceSec) || clockToleranceSec < 0) throw problem('clockToleranceSec must be a non-negative number');
  const groupsClaim = config.groupsClaim ?? 'groups';
  if (groupsClaim === '') throw problem('groupsClaim must not be empty');
  return {
    issuer: config.issuer,
    audiences,
    algorithms: [...algorithms],
    groupsClaim,
    clockToleranceSec,
    keys: createIssuerKeys(config.issuer, config.jwksUri, fetchImpl),
  };
}

/** Reads header and claims without trusting them, only to choose the issuer and refuse hopeless tokens early. */
function peek(token: string): { header: { alg?: string }; payload: JWTPayload } {
  if (token === '') throw invalid('The identity token is empty.');
  if (token.length > MAX_TOKEN_LENGTH) throw invalid(`The identity token is larger than ${MAX_TOKEN_LENGTH / 1024} KiB.`);
  const segments = token.split('.').length;
  if (segments === 5) throw invalid('Encrypted identity tokens (JWE) are not supported; send a signed JWT.');
  if (segments !== 3) throw invalid('The identity token is not a JWT (expected three dot-separated parts).');
  try {
    return { header: decodeProtectedHeader(token), payload: decodeJwt(token) };
  } catch (error) {
    throw invalid('The identity token is not a well-formed JWT.', error);
  }
}

function explain(error: unknown, issuer: Issuer): AirlockError {
  if (error instanceof AirlockError) return error;
  if (error instanceof errors.JWTExpired) {
    return new AirlockError('ExpiredIdentityToken', 'The identity token has expired; obtain a new one from your identity provider.');
  }
  if (error instanceof errors.JWTClaimValidationFailed) {
    switch (error.claim) {
      case 'aud':
        return invalid(`The identity token is not meant for Airlock: its audience (aud) must include ${issuer.audiences.map(quote).join(' or ')}.`);
      case 'sub':
        return invalid('The identity token has no subject (sub) claim.');
      case 'exp':
        return invalid('The identity token has no expiry (exp) claim.');
      case 'nbf':
        return invalid('The identity token is not valid yet (nbf is in the future).');
      default:
        return invalid(`The identity token's ${error.claim} claim is invalid.`);
    }
  }
  if (error instanceof errors.JWSSignatureVerificationFailed) return invalid("The identity token's signature does not verify with its issuer's keys.");
  if (error instanceof errors.JWKSNoMatchingKey) return invalid('The identity token is signed with a key its issuer does not publish.');
  if (error instanceof errors.JWKSMultipleMatchingKeys) return invalid('The identity token does not say which of its issuer\'s keys signed it (no usable kid).');
  if (error instanceof errors.JOSEAlgNotAllowed) return invalid(`The identity token's algorithm is not accepted (accepted: ${issuer.algorithms.join(', ')}).`);
  if (error instanceof errors.JOSENotSupported) return invalid('The identity token uses an algorithm or key type Airlock does not support.');
  if (error instanceof errors.JWTInvalid || error instanceof errors.JWSInvalid) return invalid('The identity token is not a well-formed JWT.', error);
  return invalid('The identity token could not be verified.', error);
}

function toIdentity(payload: JWTPayload, issuer: Issuer): VerifiedIdentity {
  if (typeof payload.sub !== 'string' || payload.sub === '') throw invalid('The identity token has no subject (sub) claim.');
  if (typeof payload.exp !== 'number') throw invalid('The identity token has no expiry (exp) claim.');
  const audiences = Array.isArray(payload.aud) ? payload.aud : [payload.aud];
  const audience = issuer.audiences.find((candidate) => audiences.includes(candidate)) ?? issuer.audiences[0] ?? '';
  const groups = readGroups(payload, issuer.groupsClaim);
  const name = typeof payload['name'] === 'string' ? payload['name'] : undefined;
  const email = typeof payload['email'] === 'string' ? payload['email'] : undefined;

  const claims: Record<string, unknown> = {};
  for (const claim of KEPT_CLAIMS) if (payload[claim] !== undefined) claims[claim] = payload[claim];
  claims['groups'] = groups;

  return {
    issuer: issuer.issuer,
    subject: payload.sub,
    audience,
    groups,
    ...(name === undefined ? {} : { name }),
    ...(email === undefined ? {} : { email }),
    expiresAt: new Date(payload.exp * 1000),
    claims,
  };
}

/**
 * Groups decide policy, so a claim of the wrong shape is refused rather than read as "no groups". A single string is
 * one group. An exact claim name wins over a dotted path, because some IdPs use URLs (with dots) as claim names.
 */
function readGroups(payload: JWTPayload, claim: string): string[] {
  let value: unknown = Object.hasOwn(payload, claim) ? payload[claim] : undefined;
  if (value === undefined && claim.includes('.')) {
    value = claim.split('.').reduce<unknown>((node, key) => (typeof node === 'object' && node !== null && Object.hasOwn(node, key) ? (node as Record<string, unknown>)[key] : undefined), payload);
  }
  if (value === undefined || value === null) return [];
  if (typeof value === 'string') return [value];
  if (Array.isArray(value) && value.every((group) => typeof group === 'string')) return [...value];
  throw invalid(`The identity token's ${quote(claim)} claim must be a list of group names.`);
}

function invalid(message: string, cause?: unknown): AirlockError {
  return new AirlockError('InvalidIdentityToken', message, cause === undefined ? {} : { cause });
}

/** Quotes a value taken from a token for a message: escaped, and cut short so a token cannot flood a log line. */
function quote(value: string): string {
  return JSON.stringify(value.length > 200 ? `${value.slice(0, 200)}…` : value);
}

function isHttpUrl(value: string): boolean {
  try {
    const { protocol } = new URL(value);
    return protocol === 'https:' || protocol === 'http:';
  } catch {
    return false;
  }
}
