import { randomUUID } from 'node:crypto';
import { Decision, type Principal } from '@airlock/contracts';
import { AirlockError } from '@airlock/errors';
import { escapeXml } from '@airlock/aws-protocol';
import { assertRoleAllowed } from '@airlock/identity';
import type { EdgeDependencies } from './dependencies.js';
import { recordSession } from './session-registry.js';

const stsNamespace = 'https://sts.amazonaws.com/doc/2011-06-15/';
const roleArnPattern = /^arn:aws(-cn|-us-gov)?:iam::(\d{12}):role\/([\w+=,.@/-]{1,512})$/;
const roleSessionNamePattern = /^[\w+=,.@-]{2,64}$/;

/**
 * Answers sts:AssumeRoleWithWebIdentity as AWS STS would, but with Airlock session credentials: the OIDC token is
 * verified here, policy decides whether this principal may act as the role, and the credentials handed out are
 * worthless anywhere but at Airlock.
 */
export async function assumeRoleWithWebIdentity(params: Record<string, string>, requestId: string, deps: EdgeDependencies, signal: AbortSignal): Promise<string> {
  const token = params.WebIdentityToken;
  const roleArn = params.RoleArn ?? '';
  if (!token) throw new AirlockError('InvalidRequest', 'WebIdentityToken is required.');
  const role = roleArnPattern.exec(roleArn);
  if (!role) throw new AirlockError('InvalidRequest', 'RoleArn must be an IAM role ARN, e.g. arn:aws:iam::123456789012:role/agent.');
  const roleSessionName = params.RoleSessionName ?? '';
  if (!roleSessionNamePattern.test(roleSessionName)) {
    throw new AirlockError('InvalidRequest', 'RoleSessionName must be 2-64 characters of letters, digits and +=,.@_-.');
  }
  const requestedSeconds = params.DurationSeconds === undefined ? 3600 : Number(params.DurationSeconds);
  if (!Number.isInteger(requestedSeconds) || requestedSeconds < 900 || requestedSeconds > 43_200) {
    throw new AirlockError('InvalidRequest', 'DurationSeconds must be an integer between 900 and 43200.');
  }

  const now = deps.now();
  const identity = await deps.tokens.verify(token, now);
  // The issuer's own limit comes first: policy is not even asked about a role this kind of token may never use.
  assertRoleAllowed(identity, roleArn);
  const principal: Principal = { subject: identity.subject, issuer: identity.issuer, groups: identity.groups, sessionId: '', name: identity.email ?? identity.name ?? '' };
  const decision = await deps.policy.decide(
    {
      principal,
      call: { service: 'sts', operation: 'AssumeRoleWithWebIdentity', action: 'sts:AssumeRoleWithWebIdentity', resources: [roleArn], region: '', roleArn, parameters: { RoleArn: roleArn, RoleSessionName: roleSessionName } },
      context: {},
    },
    { signal },
  );
  if (decision.decision !== Decision.DECISION_ALLOW) {
    throw new AirlockError('AccessDenied', `Not authorized to assume ${roleArn}: ${decision.reason || 'no Airlock policy permits it'}`, {
      details: { policyIds: decision.policyIds.join(',') },
    });
  }

  // The session never outlives the token that bought it, nor the edge's maximum, nor the issuer's.
  const lifetimeMs = Math.min(
    requestedSeconds * 1000,
    deps.settings.maxSessionSeconds * 1000,
    (identity.maxSessionSeconds ?? Number.POSITIVE_INFINITY) * 1000,
    identity.expiresAt.getTime() - now.getTime(),
  );
  // Within the clock tolerance a token may verify at or just past its expiry; it cannot buy a session that is over already.
  if (lifetimeMs < 1000) throw new AirlockError('ExpiredIdentityToken', 'The identity token has expired; obtain a new one from your identity provider.');
  const { credentials, claims } = await deps.sessions.issue(
    {
      subject: identity.subject,
      issuer: identity.issuer,
      groups: identity.groups,
      ...(principal.name ? { name: principal.name } : {}),
      roleArn,
      roleSessionName,
      expiresAt: new Date(now.getTime() + lifetimeMs),
    },
    now,
  );
  await recordSession(deps, claims);
  await deps.events.record(claims.sessionId, {
    $case: 'started',
    value: {
      principal: { ...principal, sessionId: claims.sessionId },
      roleArn,
      expiresAtMs: claims.expiresAt.getTime(),
      claimsJson: JSON.stringify(identity.claims),
    },
  });
  deps.logger.info({ sessionId: claims.sessionId, subject: identity.subject, issuer: identity.issuer, kind: identity.kind, roleArn }, 'session issued');

  const [, , account, roleName] = role;
  const assumedRoleArn = `arn:aws:sts::${account}:assumed-role/${roleName?.split('/').pop()}/${roleSessionName}`;
  const audience = Array.isArray(identity.claims.aud) ? String(identity.claims.aud[0]) : identity.audience;
  return `<AssumeRoleWithWebIdentityResponse xmlns="${stsNamespace}">
  <AssumeRoleWithWebIdentityResult>
    <SubjectFromWebIdentityToken>${escapeXml(identity.subject)}</SubjectFromWebIdentityToken>
    <Audience>${escapeXml(audience)}</Audience>
    <AssumedRoleUser>
      <Arn>${escapeXml(assumedRoleArn)}</Arn>
      <AssumedRoleId>${escapeXml(`${credentials.accessKeyId}:${roleSessionName}`)}</AssumedRoleId>
    </AssumedRoleUser>
    <Credentials>
      <AccessKeyId>${credentials.accessKeyId}</AccessKeyId>
      <SecretAccessKey>${escapeXml(credentials.secretAccessKey)}</SecretAccessKey>
      <SessionToken>${escapeXml(credentials.sessionToken)}</SessionToken>
      <Expiration>${credentials.expiration.toISOString()}</Expiration>
    </Credentials>
    <SourceIdentity>${escapeXml(identity.subject)}</SourceIdentity>
    <Provider>${escapeXml(identity.issuer)}</Provider>
  </AssumeRoleWithWebIdentityResult>
  <ResponseMetadata>
    <RequestId>${escapeXml(requestId || randomUUID())}</RequestId>
  </ResponseMetadata>
</AssumeRoleWithWebIdentityResponse>
`;
}
