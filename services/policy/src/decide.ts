import {
  Decision,
  RecordingLevel,
  type ApprovalRequirement,
  type DecideRequest,
  type DecideResponse,
  type Obligations,
  type Principal,
} from '@airlock/contracts';
import { AirlockError } from '@airlock/errors';
import { credentialScopes, type ApprovalMeta, type CredentialScope, type PolicyMeta } from './annotations.js';
import { anyResourceId, buildRequest, resourcesOf } from './entities.js';
import type { Evaluate } from './evaluate.js';
import { defaultCredentialScope, sessionPolicyFor } from './session-policy.js';

/** A decision before the engine stamps it with the policy set's version. */
export type Decided = Omit<DecideResponse, 'policyVersion' | 'dependsOnTime'>;

/** @default "default" — the masking profile when no deciding policy names one. */
export const defaultMaskingProfile = 'default';

type ResourceVerdict =
  | { kind: 'allow'; resource: string; policies: PolicyMeta[] }
  | { kind: 'approval'; resource: string; policies: PolicyMeta[] }
  | { kind: 'forbidden'; resource: string; policies: PolicyMeta[] }
  | { kind: 'unpermitted'; resource: string };

/**
 * Decides a call: each resource on its own, then the strictest verdict wins — any DENY denies the call, else any
 * resource that needs approval makes the call need approval, else it is allowed.
 */
export function decide(request: DecideRequest, evaluate: Evaluate, meta: ReadonlyMap<string, PolicyMeta>, now: Date): Decided {
  const { principal, call } = request;
  if (!principal || principal.subject === '' || principal.issuer === '') {
    throw new AirlockError('InvalidRequest', 'Decide needs a principal with an issuer and a subject.');
  }
  if (!call) throw new AirlockError('InvalidRequest', 'Decide needs the call to decide.');
  const action = actionOf(call.action, call.service, call.operation);
  const resources = resourcesOf(call, action);
  const verdicts = resources.map((resource): ResourceVerdict => {
    const outcome = evaluate(buildRequest(principal, call, action, resource, request.context, now));
    const policies = outcome.policyIds.map((id) => metaOf(meta, id));
    if (outcome.decision === 'deny') {
      return policies.length > 0
        ? { kind: 'forbidden', resource: resource.id, policies }
        : { kind: 'unpermitted', resource: resource.id };
    }
    // An @approval permit gates what it covers: a broader permit that also applies does not lift the gate, so a
    // rule like "terminating needs a manager's approval" holds beside a pack that allows everything else.
    // Each gating permit would allow the call once its own approval is given, so asking for any one is sound; the
    // most specific (naming the action itself, then the principal) is asked for, being written for this call.
    const gated = policies.filter((policy) => policy.approval).sort((a, b) => (b.specificity ?? 0) - (a.specificity ?? 0) || a.id.localeCompare(b.id));
    return gated.length > 0 ? { kind: 'approval', resource: resource.id, policies: gated } : { kind: 'allow', resource: resource.id, policies };
  });

  const denied = verdicts.find((verdict) => verdict.kind === 'forbidden' || verdict.kind === 'unpermitted');
  if (denied) {
    const forbidding = unique(verdicts.flatMap((verdict) => (verdict.kind === 'forbidden' ? verdict.policies : [])));
    return deny(denyReason(denied, action, principal), forbidding.map((policy) => policy.id));
  }
  const needApproval = verdicts.filter((verdict) => verdict.kind === 'approval');
  // The STS facade's role check vends nothing, so it carries no credential scope.
  const scoped = resources.every((resource) => resource.type === 'resource') ? { action, resources: resources.map((resource) => resource.id).filter((id) => id !== anyResourceId) } : undefined;
  if (needApproval.length > 0) return requireApproval(needApproval, action, scoped);
  const permitting = unique(verdicts.flatMap((verdict) => (verdict.kind === 'allow' ? verdict.policies : [])));
  return {
    decision: Decision.DECISION_ALLOW,
    reason: `Allowed by ${permitting.map((policy) => policy.id).join(', ')}`,
    policyIds: permitting.map((policy) => policy.id),
    approval: undefined,
    obligations: obligationsOf(permitting, scoped && { ...scoped, scope: narrowestScope(permitting) }),
  };
}

/** The narrowest @scope any deciding permit names, else the default. */
function narrowestScope(policies: readonly PolicyMeta[]): CredentialScope {
  const named = policies.map((policy) => policy.scope).filter((scope) => scope !== undefined);
  return credentialScopes.find((scope) => named.includes(scope)) ?? defaultCredentialScope;
}

/** The IAM action, from the call's action or else its service and operation ("s3" + "PutObject"). */
function actionOf(action: string, service: string, operation: string): string {
  const name = action !== '' ? action : service !== '' && operation !== '' ? `${service}:${operation}` : '';
  const colon = name.indexOf(':');
  if (colon <= 0 || colon === name.length - 1) {
    throw new AirlockError('InvalidRequest', `Decide needs an IAM action like "s3:PutObject"; got "${name}".`);
  }
  // IAM service prefixes are lower case; operation names keep their case, as IAM spells them.
  return `${name.slice(0, colon).toLowerCase()}${name.slice(colon)}`;
}

function metaOf(meta: ReadonlyMap<string, PolicyMeta>, id: string): PolicyMeta {
  const policy = meta.get(id);
  if (!policy) throw new AirlockError('Internal', `Cedar named policy ${id}, which Airlock did not load.`);
  return policy;
}

function unique(policies: PolicyMeta[]): PolicyMeta[] {
  return [...new Map(policies.map((policy) => [policy.id, policy])).values()].sort((a, b) => a.id.localeCompare(b.id));
}

function deny(reason: string, policyIds: string[]): Decided {
  return { decision: Decision.DECISION_DENY, reason, policyIds, approval: undefined, obligations: obligationsOf([]) };
}

function denyReason(verdict: ResourceVerdict, action: string, principal: Principal): string {
  const on = verdict.resource === anyResourceId ? '' : ` on ${verdict.resource}`;
  if (verdict.kind === 'forbidden') {
    const withReason = verdict.policies.find((policy) => policy.reason !== undefined);
    return withReason?.reason ?? `Airlock policy ${verdict.policies[0]?.id} forbids ${action}${on} for ${principal.subject}`;
  }
  return `No Airlock policy permits ${action}${on} for ${principal.subject}`;
}

/**
 * One approval covers the whole call, so it must satisfy every resource's requirement: approvers must be in a group
 * that every requirement names, with the highest quorum and the shortest windows. For one resource, any satisfied
 * approval permit would do; Airlock takes the most specific, then the first by id, so that the choice is stable.
 */
function requireApproval(verdicts: (ResourceVerdict & { kind: 'approval' })[], action: string, scoped: CallScope | undefined): Decided {
  const chosen = unique(verdicts.map((verdict) => verdict.policies[0] as PolicyMeta));
  const requirements = chosen.map((policy) => policy.approval as ApprovalMeta);
  const groups = requirements
    .map((requirement) => requirement.approverGroups)
    .reduce((common, next) => common.filter((group) => next.includes(group)));
  const policyIds = chosen.map((policy) => policy.id);
  if (groups.length === 0) {
    return deny(
      `${action} needs approval under policies ${policyIds.join(', ')}, which share no approver group; no single approval can cover this call`,
      policyIds,
    );
  }
  const approval: ApprovalRequirement = {
    approverGroups: [...groups],
    quorum: Math.max(...requirements.map((requirement) => requirement.quorum)),
    pendingTtlSeconds: Math.min(...requirements.map((requirement) => requirement.pendingTtlSeconds)),
    grantWindowSeconds: Math.min(...requirements.map((requirement) => requirement.grantWindowSeconds)),
  };
  const resources = verdicts.map((verdict) => verdict.resource).filter((resource) => resource !== anyResourceId);
  const on = resources.length > 0 ? ` on ${resources.join(', ')}` : '';
  const who = approval.quorum > 1 ? `${approval.quorum} approvers` : 'an approver';
  return {
    decision: Decision.DECISION_APPROVAL_REQUIRED,
    reason:
      chosen.find((policy) => policy.reason !== undefined)?.reason ??
      `${action}${on} needs approval from ${who} in ${groups.join(' or ')} (policy ${policyIds.join(', ')})`,
    policyIds,
    approval,
    // Approved credentials allow exactly the approved action on exactly its resources, for no longer than the grant.
    obligations: obligationsOf(chosen, scoped && { ...scoped, scope: 'action' }, approval.grantWindowSeconds),
  };
}

interface CallScope {
  action: string;
  resources: readonly string[];
}

/**
 * The most complete recording any deciding policy asks for; the first masking profile named (by policy id); the
 * session policy of the call's scope; the shortest credential lifetime any deciding policy (or the grant) allows.
 */
function obligationsOf(policies: PolicyMeta[], scoped?: CallScope & { scope: CredentialScope }, grantSeconds?: number): Obligations {
  const recording = Math.max(
    RecordingLevel.RECORDING_LEVEL_METADATA,
    ...policies.map((policy) => policy.recording ?? RecordingLevel.RECORDING_LEVEL_METADATA),
  ) as RecordingLevel;
  const lifetimes = [...policies.map((policy) => policy.credentialSeconds), grantSeconds].filter((seconds) => seconds !== undefined);
  return {
    maskingProfile: policies.find((policy) => policy.maskingProfile !== undefined)?.maskingProfile ?? defaultMaskingProfile,
    recording,
    sessionPolicy: scoped ? sessionPolicyFor(scoped.scope, scoped.action, scoped.resources) : '',
    // 0: the credential service's configured duration.
    maxCredentialSeconds: lifetimes.length > 0 ? Math.min(...lifetimes) : 0,
  };
}
