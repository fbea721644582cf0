import { decodeJwt, decodeProtectedHeader, errors, jwtVerify, type JWTPayload } from 'jose';
import { AirlockError } from '@airlock/errors';
import { createIssuerKeys, isHttpUrl, type IssuerKeys, type KeyCachePolicy } from './issuer-keys.js';
import type { ClaimMapping, IssuerConfig, IssuerKind, VerifiedIdentity } from './oidc-types.js';

/** Identity tokens are a few KiB at most; anything larger is refused before any parsing or key lookup. */
const MAX_TOKEN_LENGTH = 16 * 1024;
const DEFAULT_ALGORITHMS = ['RS256', 'RS384', 'RS512', 'ES256', 'ES384', 'PS256', 'EdDSA'];
/**
 * Asymmetric algorithms only. 'none' would accept unsigned tokens, and an HMAC algorithm would let anyone holding the
 * verification key (or a public key misread as an HMAC secret) mint tokens.
 */
const PERMITTED_ALGORITHMS: ReadonlySet<string> = new Set(['RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512', 'ES256', 'ES384', 'ES512', 'EdDSA', 'Ed25519']);
/** Standard claims kept for records as they are; the mapped name, e-mail and groups are added under those names. */
const KEPT_CLAIMS = ['iss', 'sub', 'aud', 'exp', 'iat', 'nbf'] as const;
/** Clock skew is bounded: a generous tolerance would quietly extend every token's life. */
const MAX_CLOCK_TOLERANCE_SEC = 300;
const DEFAULT_CLAIMS: ClaimMapping = { subject: 'sub', name: 'name', email: 'email', groups: 'groups' };

interface Issuer {
  issuer: string;
  kind: IssuerKind;
  audiences: string[];
  algorithms: string[];
  claims: ClaimMapping;
  roles: readonly string[];
  maxSessionSeconds?: number;
  clockToleranceSec: number;
  keys: IssuerKeys;
}

export interface TokenVerifierOptions {
  fetch?: typeof fetch;
  /** How signing keys are cached; see KeyCachePolicy for the defaults. */
  keys?: KeyCachePolicy;
}

export interface TokenVerifier {
  /** Verifies a token at `now` (also the clock of the key cache). */
  verify(token: string, now?: Date): Promise<VerifiedIdentity>;
}

/**
 * Verifies OIDC identity tokens (ID tokens, JWT access tokens, Kubernetes service-account tokens, CI tokens) from the
 * configured issuers. The token's `iss` picks the issuer, read before anything is trusted; the signature is then checked
 * with that issuer's keys only, with its audience and algorithms, and the caller is read through its claim mapping.
 * Throws InvalidIdentityToken, ExpiredIdentityToken or IdpUnreachable, with messages a client can act on. Which roles
 * the caller may use is checked separately (`assertRoleAllowed`), with the patterns the identity carries.
 */
export function createTokenVerifier(issuers: IssuerConfig[], options: TokenVerifierOptions = {}): TokenVerifier {
  const byIssuer = new Map<string, Issuer>();
  for (const config of issuers) {
    if (byIssuer.has(config.issuer)) throw new AirlockError('InvalidConfiguration', `identity issuer ${config.issuer} is configured twice`);
    byIssuer.set(config.issuer, toIssuer(config, options));
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
        ({ payload: verified } = await jwtVerify(candidate, (protectedHeader) => issuer.keys.getKey(protectedHeader, now.getTime()), {
          issuer: issuer.issuer,
          audience: issuer.audiences,
          algorithms: issuer.algorithms,
          clockTolerance: issuer.clockToleranceSec,
          currentDate: now,
          requiredClaims: ['exp'],
        }));
      } catch (error) {
        throw explain(error, issuer);
      }
      // jose checks iat only against a maximum age; a token from the future is as suspect as one not valid yet.
      if (typeof verified.iat === 'number' && verified.iat > now.getTime() / 1000 + issuer.clockToleranceSec) {
        throw invalid('The identity token was issued in the future (iat); check the clocks of your identity provider and of Airlock.');
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

function toIssuer(config: IssuerConfig, options: TokenVerifierOptions): Issuer {
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
  if (!Number.isFinite(clockToleranceSec) || clockToleranceSec < 0 || clockToleranceSec > MAX_CLOCK_TOLERANCE_SEC) {
    throw problem(`clockToleranceSec must be between 0 and ${MAX_CLOCK_TOLERANCE_SEC} seconds`);
  }
  const claims: ClaimMapping = { ...DEFAULT_CLAIMS };
  for (const [field, name] of Object.entries(config.claims ?? {}) as [keyof ClaimMapping, unknown][]) {
    if (!Object.hasOwn(DEFAULT_CLAIMS, field)) throw problem(`claims.${String(field)} is not a claim Airlock maps (subject, name, email, groups)`);
    if (name === undefined) continue;
    if (typeof name !== 'string' || name === '') throw problem(`claims.${field} must name a claim`);
    claims[field] = name;
  }
  const roles = config.roles ?? ['*'];
  if (!Array.isArray(roles) || roles.length === 0 || roles.some((pattern) => typeof pattern !== 'string' || pattern === '')) {
    throw problem('roles must list at least one role ARN pattern (use "*" for any role)');
  }
  const kind = config.kind ?? 'workloads';
  if (kind !== 'people' && kind !== 'workloads') throw problem('kind must be "people" or "workloads"');
  const { maxSessionSeconds } = config;
  if (maxSessionSeconds !== undefined && (!Number.isInteger(maxSessionSeconds) || maxSessionSeconds <= 0)) {
    throw problem('maxSessionSeconds must be a positive whole number of seconds');
  }
  return {
    issuer: config.issuer,
    kind,
    audiences,
    algorithms: [...algorithms],
    claims,
    roles: Object.freeze([...roles]),
    ...(maxSessionSeconds === undefined ? {} : { maxSessionSeconds }),
    clockToleranceSec,
    keys: createIssuerKeys(config.issuer, config.jwksUri, {
      ...(options.fetch ? { fetch: options.fetch } : {}),
      ...(options.keys ? { policy: options.keys } : {}),
    }),
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
  const subjectClaim = issuer.claims.subject;
  const subject = readClaim(payload, subjectClaim);
  if (subject === undefined || subject === null || subject === '') throw invalid(`The identity token has no subject (${subjectClaim}) claim.`);
  if (typeof subject !== 'string') throw invalid(`The identity token's subject claim ${quote(subjectClaim)} must be a string.`);
  if (typeof payload.exp !== 'number') throw invalid('The identity token has no expiry (exp) claim.');
  const audiences = Array.isArray(payload.aud) ? payload.aud : [payload.aud];
  const audience = issuer.audiences.find((candidate) => audiences.includes(candidate)) ?? issuer.audiences[0] ?? '';
  const groups = readGroups(payload, issuer.claims.groups);
  // Name and e-mail only label the caller; a claim of another shape is left out rather than refused.
  const nameValue = readClaim(payload, issuer.claims.name);
  const emailValue = readClaim(payload, issuer.claims.email);
  const name = typeof nameValue === 'string' && nameValue !== '' ? nameValue : undefined;
  const email = typeof emailValue === 'string' && emailValue !== '' ? emailValue : undefined;

  const claims: Record<string, unknown> = {};
  for (const claim of KEPT_CLAIMS) if (payload[claim] !== undefined) claims[claim] = payload[claim];
  if (subjectClaim !== 'sub') claims[subjectClaim] = subject;
  if (name !== undefined) claims['name'] = name;
  if (email !== undefined) claims['email'] = email;
  claims['groups'] = groups;

  return {
    issuer: issuer.issuer,
    kind: issuer.kind,
    subject,
    audience,
    groups,
    ...(name === undefined ? {} : { name }),
    ...(email === undefined ? {} : { email }),
    expiresAt: new Date(payload.exp * 1000),
    roles: issuer.roles,
    ...(issuer.maxSessionSeconds === undefined ? {} : { maxSessionSeconds: issuer.maxSessionSeconds }),
    claims,
  };
}

/**
 * Groups decide policy, so a claim of the wrong shape is refused rather than read as "no groups". A single string is
 * one group.
 */
function readGroups(payload: JWTPayload, claim: string): string[] {
  const value = readClaim(payload, claim);
  if (value === undefined || value === null) return [];
  if (typeof value === 'string') return [value];
  if (Array.isArray(value) && value.every((group) => typeof group === 'string')) return [...value];
  throw invalid(`The identity token's ${quote(claim)} claim must be a list of group names.`);
}

/**
 * Reads a claim by name: the whole name first (some IdPs use URLs or "cognito:groups" as claim names), then as a dotted
 * path into nested objects, where a segment may itself contain dots ("kubernetes.io.namespace" reaches
 * `{"kubernetes.io": {"namespace": …}}`). At each level the longest remaining name wins, then splits from the left.
 */
export function readClaim(payload: Readonly<Record<string, unknown>>, name: string): unknown {
  return lookup(payload, name, 0);
}

function lookup(node: unknown, path: string, depth: number): unknown {
  if (typeof node !== 'object' || node === null || Array.isArray(node) || depth > 16) return undefined;
  const record = node as Record<string, unknown>;
  if (Object.hasOwn(record, path)) return record[path];
  for (let dot = path.indexOf('.'); dot !== -1; dot = path.indexOf('.', dot + 1)) {
    const head = path.slice(0, dot);
    if (head === '' || !Object.hasOwn(record, head)) continue;
    const found = lookup(record[head], path.slice(dot + 1), depth + 1);
    if (found !== undefined) return found;
  }
  return undefined;
}

function invalid(message: string, cause?: unknown): AirlockError {
  return new AirlockError('InvalidIdentityToken', message, cause === undefined ? {} : { cause });
}

/** Quotes a value taken from a token for a message: escaped, and cut short so a token cannot flood a log line. */
function quote(value: string): string {
  return JSON.stringify(value.length > 200 ? `${value.slice(0, 200)}…` : value);
}
