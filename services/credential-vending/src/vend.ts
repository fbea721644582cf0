import { AirlockError } from '@airlock/errors';
import type { Logger } from '@airlock/logging';
import type { CredentialVendingServiceService, VendRequest, VendResponse } from '@airlock/contracts';
import type { CallContext, ServiceImplementation } from '@airlock/transport';
import { untilAborted } from './abortable.js';
import type { ExpiringCache } from './cache.js';
import { isTransientStsError, toVendingError } from './errors.js';
import { roleSessionNameFor, sourceIdentityFor, tagValueFor } from './naming.js';
import { withRetries, type RetryHooks, type RetryPolicy } from './retry.js';
import { refreshAtFor, type CachedCredentials } from './refresh.js';
import { scopeOf, type Scope } from './scope.js';
import type { SharedCredentialCache } from './shared-cache.js';
import type { AssumeRoleInput, Sts } from './sts.js';
import { countMemoryLookup, countSharedLookup, countStsCall } from './vend-metrics.js';

export { minDurationSeconds } from './scope.js';

// Partition, account and role path as IAM spells them; anything else would only earn a vaguer error from STS.
const roleArnPattern = /^arn:aws(-[a-z]+)*:iam::\d{12}:role\/[\w+=,.@/-]{1,512}$/;

export interface VendDependencies {
  sts: Sts;
  cache: ExpiringCache<CachedCredentials>;
  /** Longest lifetime handed out; also the lifetime when the request names none. */
  durationSeconds: number;
  logger: Logger;
  now: () => number;
  /** The cache shared with other processes through the state store; absent: in-process only. */
  shared?: SharedCredentialCache;
  retry: RetryPolicy;
  retryHooks?: RetryHooks;
}

type VendHandler = ServiceImplementation<typeof CredentialVendingServiceService>['vend'];

export function createVendHandler(deps: VendDependencies): VendHandler {
  return async (request: VendRequest, { signal }: CallContext): Promise<VendResponse> => {
    const { input, scope } = toAssumeRoleInput(request, deps.durationSeconds, deps.now());
    const subject = request.principal?.subject ?? '';
    const fromSts = async (): Promise<CachedCredentials> => {
      const value = await withRetries(() => countStsCall(() => deps.sts.assumeRole(input)), deps.retry, isTransientStsError, {
        ...deps.retryHooks,
        onRetry: (error, attempt, delayMs) => {
          const { name } = (error ?? {}) as { name?: string };
          deps.logger.info({ roleArn: request.roleArn, subject, stsError: name, attempt, delayMs }, 'STS call failed; retrying');
          deps.retryHooks?.onRetry?.(error, attempt, delayMs);
        },
      });
      // A time bound (in the session policy, or the request's own) ends the credentials before STS's expiry: nobody
      // may use them later, so no cache serves them later either.
      const expirationMs = scope.notAfterMs !== undefined ? Math.min(scope.notAfterMs, value.expirationMs) : value.expirationMs;
      return { ...value, expirationMs, refreshAtMs: refreshAtFor(expirationMs, deps.now(), scope.atBound) };
    };
    const key = cacheKeyOf(request, deps.durationSeconds);
    const sharedCache = deps.shared;
    const load = sharedCache
      ? async () => {
          const found = await sharedCache.get(key, fromSts);
          countSharedLookup(found.source);
          return found.value;
        }
      : fromSts;
    try {
      const { value, shared } = await untilAborted(deps.cache.get(key, load), signal);
      countMemoryLookup(shared);
      deps.logger.debug({ roleArn: request.roleArn, subject, shared, expirationMs: value.expirationMs }, 'credentials vended');
      const { accessKeyId, secretAccessKey, sessionToken, expirationMs } = value;
      return { credentials: { accessKeyId, secretAccessKey, sessionToken, expirationMs } };
    } catch (error) {
      if (signal.aborted) throw error;
      const failure = toVendingError(error, request.roleArn);
      // The SDK error itself is not logged: only its name and status, which can never carry a secret.
      deps.logger.warn(
        { roleArn: request.roleArn, subject, code: failure.code, stsError: failure.details.stsError, status: statusOf(error) },
        'vending credentials failed',
      );
      throw failure;
    }
  };
}

export function toAssumeRoleInput(request: VendRequest, durationSeconds: number, nowMs: number): { input: AssumeRoleInput; scope: Scope } {
  const principal = request.principal;
  if (!principal?.subject) throw new AirlockError('InvalidRequest', 'A credential request must name the calling principal.');
  if (!roleArnPattern.test(request.roleArn)) {
    throw new AirlockError('InvalidRequest', 'A credential request must name an IAM role ARN.', { details: { roleArn: request.roleArn } });
  }
  // An approval grants a window, not a lifetime: without the window's end the credentials would outlive it by as much
  // as the configured lifetime, so a request that names an approval and no end is refused, never served unbounded.
  if (request.approvalId && !(request.notAfterMs > 0)) {
    throw new AirlockError('InvalidRequest', 'A credential request for an approved call must name when the credentials stop working (not_after_ms): the end of the approval\'s window at the latest.', {
      details: { approvalId: request.approvalId },
    });
  }
  const tags = [{ key: 'airlock-subject', value: tagValueFor(principal.subject) }];
  if (principal.groups.length > 0) tags.push({ key: 'airlock-groups', value: tagValueFor([...principal.groups].sort().join(':')) });
  if (principal.sessionId) tags.push({ key: 'airlock-session', value: tagValueFor(principal.sessionId) });
  if (request.approvalId) tags.push({ key: 'airlock-approval', value: tagValueFor(request.approvalId) });
  const scope = scopeOf(request, durationSeconds, nowMs);
  const input: AssumeRoleInput = {
    roleArn: request.roleArn,
    roleSessionName: roleSessionNameFor(principal.subject),
    sourceIdentity: sourceIdentityFor(principal.subject),
    durationSeconds: scope.durationSeconds,
    ...(scope.policy ? { policy: scope.policy } : {}),
    tags,
  };
  return { input, scope };
}

/**
 * Everything that shapes the credentials STS returns: two requests with the same key may share credentials.
 * The session id, the approval id and the bound belong here too: they become session tags and the end of the
 * credentials, and they bind cached credentials to one Airlock session and one approval, so that once the edges
 * refuse a revoked session or a closed approval window, nothing can ask for its credentials again. What depends on
 * the clock (the DurationSeconds left before the bound) is not part of the key.
 */
function cacheKeyOf(request: VendRequest, configuredSeconds: number): string {
  const principal = request.principal;
  return JSON.stringify([
    request.roleArn,
    principal?.subject,
    principal?.issuer,
    principal?.groups ? [...principal.groups].sort() : [],
    principal?.sessionId,
    request.sessionPolicy,
    request.approvalId,
    request.region,
    request.maxDurationSeconds,
    request.notAfterMs,
    configuredSeconds,
  ]);
}

function statusOf(error: unknown): number | undefined {
  return (error as { $metadata?: { httpStatusCode?: number } } | null)?.$metadata?.httpStatusCode;
}
