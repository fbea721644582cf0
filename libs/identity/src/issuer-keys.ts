import { createLocalJWKSet, errors, type CryptoKey, type JSONWebKeySet, type JWSHeaderParameters } from 'jose';
import { AirlockError } from '@airlock/errors';

/** How an issuer's signing keys are cached. Times are milliseconds on the clock the caller passes to `getKey`. */
export interface KeyCachePolicy {
  /** Keys fetched this long ago are fetched again before use (one request, shared). Default 10 minutes. */
  maxAgeMs?: number;
  /**
   * Least time between two fetches caused by tokens whose `kid` the cache does not hold, and between a failed fetch and
   * the next attempt of any kind. A storm of unknown kids therefore costs the IdP at most one request per cooldown.
   * Default 30 seconds.
   */
  cooldownMs?: number;
  /**
   * While the IdP cannot be reached, keys already known keep verifying tokens for this long after they were last fetched
   * successfully, even past `maxAgeMs`. Default 24 hours.
   */
  maxStaleMs?: number;
  /** Time limit of each discovery or JWKS request. Default 5 seconds. */
  timeoutMs?: number;
}

export interface IssuerKeys {
  /** The verification key for a token header, at time `nowMs`. Throws jose's JWKS errors for keys that are not published, IdpUnreachable otherwise. */
  getKey(header: JWSHeaderParameters, nowMs: number): Promise<CryptoKey>;
  /** Requests made to the IdP so far (discovery and JWKS), for tests and diagnostics. */
  readonly requests: number;
}

const DEFAULTS = { maxAgeMs: 10 * 60_000, cooldownMs: 30_000, maxStaleMs: 24 * 60 * 60_000, timeoutMs: 5_000 } as const;
/** A key set is a few KiB; a larger answer is refused rather than parsed. */
const MAX_DOCUMENT_BYTES = 512 * 1024;

interface CachedSet {
  resolve: ReturnType<typeof createLocalJWKSet>;
  fetchedAt: number;
}

/**
 * The signing keys of one issuer, cached with rotation and outages in mind. The JWKS location comes from `jwksUri` or
 * from OIDC discovery (`${issuer}/.well-known/openid-configuration`, remembered once it succeeded).
 *
 * - The first token loads the key set; concurrent callers share every request (single flight).
 * - A token whose `kid` is not in the cache triggers one refetch, which picks up a rotation at once; further unknown kids
 *   within the cooldown are answered from the cache, so a storm of made-up kids does not hammer the IdP.
 * - Keys older than `maxAgeMs` are refetched before use; if that fails, the keys already known keep working (up to
 *   `maxStaleMs`) and the IdP is not asked again before the cooldown has passed.
 * - A failed request is never cached as a result; the next attempt waits for the cooldown.
 *
 * The clock is the caller's (`nowMs`), so tests can freeze and move it.
 */
export function createIssuerKeys(issuer: string, jwksUri: string | undefined, options: { fetch?: typeof fetch; policy?: KeyCachePolicy } = {}): IssuerKeys {
  const policy = { ...DEFAULTS, ...definedOnly(options.policy ?? {}) };
  const fetchImpl = options.fetch ?? ((input, init) => fetch(input, init));
  let location = jwksUri;
  let cached: CachedSet | undefined;
  let inflight: Promise<void> | undefined;
  let lastFailure: { at: number; error: AirlockError } | undefined;
  /** When the cache was last refetched because of an unknown kid; the first load does not count. */
  let lastUnknownKidFetchAt = Number.NEGATIVE_INFINITY;
  let requests = 0;

  const coolingDown = (now: number) => lastFailure !== undefined && now < lastFailure.at + policy.cooldownMs;

  /** One request for the whole key set at a time; every caller waits for the same one. */
  const refresh = (now: number): Promise<void> => {
    inflight ??= load(now).finally(() => {
      inflight = undefined;
    });
    return inflight;
  };

  const load = async (now: number): Promise<void> => {
    try {
      location ??= await discoverJwksUri(issuer, get);
      const document = await get(location, 'its JSON Web Key Set');
      let resolve: CachedSet['resolve'];
      try {
        resolve = createLocalJWKSet(document as JSONWebKeySet);
      } catch (error) {
        throw unreachable(issuer, 'its JSON Web Key Set is malformed', error);
      }
      // An empty set would make every known key unknown; keeping the known keys is safer than believing it.
      if ((document as JSONWebKeySet).keys.length === 0) throw unreachable(issuer, 'its JSON Web Key Set holds no keys');
      cached = { resolve, fetchedAt: now };
      lastFailure = undefined;
    } catch (error) {
      const failure = error instanceof AirlockError ? error : unreachable(issuer, 'the request failed', error);
      lastFailure = { at: now, error: failure };
      throw failure;
    }
  };

  const get = async (url: string, what: string): Promise<unknown> => {
    requests += 1;
    let response: Response;
    try {
      response = await fetchImpl(url, { headers: { accept: 'application/json' }, redirect: 'manual', signal: AbortSignal.timeout(policy.timeoutMs) });
    } catch (error) {
      throw unreachable(issuer, `the request for ${what} failed`, error);
    }
    if (response.status !== 200) {
      await response.body?.cancel().catch(() => undefined);
      throw unreachable(issuer, `it answered HTTP ${response.status} for ${what}`);
    }
    let text: string;
    try {
      text = await readLimited(response, MAX_DOCUMENT_BYTES);
    } catch (error) {
      throw unreachable(issuer, `${what} could not be read`, error);
    }
    try {
      return JSON.parse(text) as unknown;
    } catch (error) {
      throw unreachable(issuer, `${what} is not JSON`, error);
    }
  };

  return {
    get requests() {
      return requests;
    },

    async getKey(header, now) {
      /** Set when this call waited for a fetch: the key set is then as fresh as it gets, and a missing kid is simply missing. */
      let fresh = false;
      if (inflight) {
        fresh = true;
        await inflight.catch(() => undefined);
      }
      if (!cached) {
        if (coolingDown(now)) throw lastFailure!.error;
        fresh = true;
        await refresh(now);
      } else if (now - cached.fetchedAt >= policy.maxAgeMs && !coolingDown(now)) {
        // Routine refresh; a failure leaves the known keys in place (checked for staleness below).
        fresh = true;
        await refresh(now).catch(() => undefined);
      }
      const keys = cached;
      if (!keys) throw lastFailure?.error ?? unreachable(issuer, 'no keys could be loaded');
      if (now - keys.fetchedAt >= policy.maxStaleMs) {
        throw lastFailure?.error ?? unreachable(issuer, 'its keys are too old to be trusted');
      }

      try {
        return await keys.resolve(header);
      } catch (error) {
        if (!(error instanceof errors.JWKSNoMatchingKey)) throw error;
        // A kid the cache does not know: perhaps a rotation. A refresh already under way (or just finished) may bring it.
        if (inflight) await inflight.catch(() => undefined);
        if (cached && cached !== keys) return cached.resolve(header);
        // Otherwise ask the IdP, at most once per cooldown and never during a failure's backoff.
        if (coolingDown(now)) throw lastFailure!.error;
        if (fresh) throw error;
        if (now < lastUnknownKidFetchAt + policy.cooldownMs) throw error;
        lastUnknownKidFetchAt = now;
        await refresh(now);
        return (cached ?? keys).resolve(header);
      }
    },
  };
}

/** OpenID Connect Discovery 1.0, section 4. */
async function discoverJwksUri(issuer: string, get: (url: string, what: string) => Promise<unknown>): Promise<string> {
  const document = await get(`${issuer.replace(/\/$/, '')}/.well-known/openid-configuration`, 'its OpenID configuration');
  const { issuer: named, jwks_uri: jwksUri } = (typeof document === 'object' && document !== null ? document : {}) as Record<string, unknown>;
  // Section 4.3: the issuer in the document must be identical to the one used to fetch it, or the keys may not be its own.
  if (named !== issuer) throw unreachable(issuer, 'its discovery document names a different issuer');
  if (typeof jwksUri !== 'string' || !isHttpUrl(jwksUri)) throw unreachable(issuer, 'its discovery document has no valid jwks_uri');
  return jwksUri;
}

function unreachable(issuer: string, reason: string, cause?: unknown): AirlockError {
  return new AirlockError('IdpUnreachable', `Airlock could not obtain the signing keys of the identity provider ${issuer}: ${reason}. Retry later.`, cause === undefined ? {} : { cause });
}

async function readLimited(response: Response, limit: number): Promise<string> {
  const declared = Number(response.headers.get('content-length'));
  if (Number.isFinite(declared) && declared > limit) {
    await response.body?.cancel().catch(() => undefined);
    throw new Error(`the answer is larger than ${limit} bytes`);
  }
  if (!response.body) return '';
  const chunks: Uint8Array[] = [];
  let size = 0;
  for await (const chunk of response.body as unknown as AsyncIterable<Uint8Array>) {
    size += chunk.byteLength;
    if (size > limit) throw new Error(`the answer is larger than ${limit} bytes`);
    chunks.push(chunk);
  }
  return Buffer.concat(chunks).toString('utf8');
}

export function isHttpUrl(value: string): boolean {
  try {
    const { protocol } = new URL(value);
    return protocol === 'https:' || protocol === 'http:';
  } catch {
    return false;
  }
}

function definedOnly<T extends object>(value: T): Partial<T> {
  return Object.fromEntries(Object.entries(value).filter(([, entry]) => entry !== undefined)) as Partial<T>;
}
