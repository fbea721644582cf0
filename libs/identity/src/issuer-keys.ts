import { createRemoteJWKSet, customFetch, errors, type JWTVerifyGetKey } from 'jose';
import { AirlockError } from '@airlock/errors';

const DISCOVERY_TIMEOUT_MS = 5_000;

/**
 * The signing keys of one issuer, as a jose key resolver. The JWKS location comes from `jwksUri` or from OIDC discovery
 * (`${issuer}/.well-known/openid-configuration`), fetched once with concurrent callers sharing the request; a failed
 * discovery is retried by the next call. jose's remote key set caches the keys and, for a kid it does not know, refetches
 * at most every 30 seconds, which picks up rotations without letting unknown kids hammer the IdP.
 * Network and protocol failures become IdpUnreachable; a key that is simply not there stays a jose error for the caller.
 */
export function createIssuerKeys(issuer: string, jwksUri: string | undefined, fetchImpl: typeof fetch | undefined): JWTVerifyGetKey {
  let keySet: JWTVerifyGetKey | undefined = jwksUri === undefined ? undefined : remoteKeySet(issuer, jwksUri, fetchImpl);
  let discovery: Promise<JWTVerifyGetKey> | undefined;

  const resolveKeySet = async (): Promise<JWTVerifyGetKey> => {
    if (keySet) return keySet;
    discovery ??= discoverJwksUri(issuer, fetchImpl ?? fetch)
      .then((uri) => (keySet = remoteKeySet(issuer, uri, fetchImpl)))
      .finally(() => {
        discovery = undefined;
      });
    return discovery;
  };

  return async (header, token) => {
    const keys = await resolveKeySet();
    try {
      return await keys(header, token);
    } catch (error) {
      if (error instanceof errors.JWKSNoMatchingKey || error instanceof errors.JWKSMultipleMatchingKeys || error instanceof errors.JOSENotSupported) {
        throw error;
      }
      throw new AirlockError('IdpUnreachable', `Airlock could not obtain the signing keys of the identity provider ${issuer}. Retry later.`, { cause: error });
    }
  };
}

function remoteKeySet(issuer: string, jwksUri: string, fetchImpl: typeof fetch | undefined): JWTVerifyGetKey {
  const url = parseHttpUrl(jwksUri);
  if (!url) throw new AirlockError('IdpUnreachable', `The identity provider ${issuer} names an invalid jwks_uri.`);
  return createRemoteJWKSet(url, fetchImpl === undefined ? {} : { [customFetch]: fetchImpl });
}

/** OpenID Connect Discovery 1.0, section 4. */
async function discoverJwksUri(issuer: string, fetchImpl: typeof fetch): Promise<string> {
  const location = `${issuer.replace(/\/$/, '')}/.well-known/openid-configuration`;
  const unreachable = (reason: string, cause?: unknown) =>
    new AirlockError('IdpUnreachable', `Airlock could not read the OpenID configuration of ${issuer}: ${reason}. Retry later.`, cause === undefined ? {} : { cause });
  let response: Response;
  try {
    response = await fetchImpl(location, { headers: { accept: 'application/json' }, signal: AbortSignal.timeout(DISCOVERY_TIMEOUT_MS) });
  } catch (error) {
    throw unreachable('the request failed', error);
  }
  if (response.status !== 200) throw unreachable(`it answered HTTP ${response.status}`);
  let document: unknown;
  try {
    document = await response.json();
  } catch (error) {
    throw unreachable('the answer is not JSON', error);
  }
  const { issuer: named, jwks_uri: jwksUri } = (typeof document === 'object' && document !== null ? document : {}) as Record<string, unknown>;
  // Section 4.3: the issuer in the document must be identical to the one used to fetch it, or the keys may not be its own.
  if (named !== issuer) throw unreachable('its discovery document names a different issuer');
  if (typeof jwksUri !== 'string' || !parseHttpUrl(jwksUri)) throw unreachable('its discovery document has no valid jwks_uri');
  return jwksUri;
}

function parseHttpUrl(value: string): URL | undefined {
  try {
    const url = new URL(value);
    return url.protocol === 'https:' || url.protocol === 'http:' ? url : undefined;
  } catch {
    return undefined;
  }
}
