import type { SessionClaims } from '@airlock/identity';

/**
 * The request context the edge sends with every decision (DecideRequest.context, documented in policy.proto): what the
 * policy service reads into Cedar's `context` and the principal's `kind`. Strings on the wire; the policy service types them.
 */
export function decisionContext(
  claims: Pick<SessionClaims, 'issuer' | 'issuedAt'>,
  facts: { operationKnown: boolean; sourceIp: string | undefined; now: Date; issuerKinds: Readonly<Record<string, string>> | undefined },
): Record<string, string> {
  const kind = facts.issuerKinds?.[claims.issuer];
  return {
    operationKnown: String(facts.operationKnown),
    sourceIp: facts.sourceIp ?? '',
    time: facts.now.toISOString(),
    sessionAgeSeconds: String(Math.max(0, Math.floor((facts.now.getTime() - claims.issuedAt.getTime()) / 1000))),
    ...(kind === undefined ? {} : { principalKind: kind }),
  };
}
