import { AirlockError } from '@airlock/errors';
import type { Logger } from '@airlock/logging';
import type { CredentialVendingServiceService, VendRequest, VendResponse } from '@airlock/contracts';
import type { CallContext, ServiceImplementation } from '@airlock/transport';
import { untilAborted } from './abortable.js';
import type { ExpiringCache } from './cache.js';
import { toVendingError } from './errors.js';
import { roleSessionNameFor, sourceIdentityFor, tagValueFor } from './naming.js';
import type { AssumeRoleInput, AssumedCredentials, Sts } from './sts.js';

/** STS's shortest AssumeRole lifetime. */
export const minDurationSeconds = 900;

// Partition, account and role path as IAM spells them; anything else would only earn a vaguer error from STS.
const roleArnPattern = /^arn:aws(-[a-z]+)*:iam::\d{12}:role\/[\w+=,.@/-]{1,512}$/;

export interface VendDependencies {
  sts: Sts;
  cache: ExpiringCache<AssumedCredentials>;
  /** Longest lifetime handed out; also the lifetime when the request names none. */
  durationSeconds: number;
  logger: Logger;
}

type VendHandler = ServiceImplementation<typeof CredentialVendingServiceService>['vend'];

export function createVendHandler(deps: VendDependencies): VendHandler {
  return async (request: VendRequest, { signal }: CallContext): Promise<VendResponse> => {
    const input = toAssumeRoleInput(request, deps.durationSeconds);
    const subject = request.principal?.subject ?? '';
    try {
      const { value, shared } = await untilAborted(
        deps.cache.get(cacheKeyOf(request, input.durationSeconds), () => deps.sts.assumeRole(input)),
        signal,
      );
      deps.logger.debug({ roleArn: request.roleArn, subject, shared, expirationMs: value.expirationMs }, 'credentials vended');
      return { credentials: { ...value } };
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

export function toAssumeRoleInput(request: VendRequest, durationSeconds: number): AssumeRoleInput {
  const principal = request.principal;
  if (!principal?.subject) throw new AirlockError('InvalidRequest', 'A credential request must name the calling principal.');
  if (!roleArnPattern.test(request.roleArn)) {
    throw new AirlockError('InvalidRequest', 'A credential request must name an IAM role ARN.', { details: { roleArn: request.roleArn } });
  }
  const tags = [{ key: 'airlock-subject', value: tagValueFor(principal.subject) }];
  if (principal.sessionId) tags.push({ key: 'airlock-session', value: tagValueFor(principal.sessionId) });
  if (request.approvalId) tags.push({ key: 'airlock-approval', value: tagValueFor(request.approvalId) });
  return {
    roleArn: request.roleArn,
    roleSessionName: roleSessionNameFor(principal.subject),
    sourceIdentity: sourceIdentityFor(principal.subject),
    durationSeconds: clamp(request.maxDurationSeconds || durationSeconds, minDurationSeconds, durationSeconds),
    ...(request.sessionPolicy ? { policy: request.sessionPolicy } : {}),
    tags,
  };
}

/**
 * Everything that shapes the credentials STS returns: two requests with the same key may share credentials.
 * The session id and lifetime belong here too, since they become a session tag and the expiry.
 */
function cacheKeyOf(request: VendRequest, durationSeconds: number): string {
  const principal = request.principal;
  return JSON.stringify([
    request.roleArn,
    principal?.subject,
    principal?.issuer,
    principal?.sessionId,
    request.sessionPolicy,
    request.approvalId,
    request.region,
    durationSeconds,
  ]);
}

function clamp(value: number, min: number, max: number): number {
  return Math.min(Math.max(value, min), max);
}

function statusOf(error: unknown): number | undefined {
  return (error as { $metadata?: { httpStatusCode?: number } } | null)?.$metadata?.httpStatusCode;
}
