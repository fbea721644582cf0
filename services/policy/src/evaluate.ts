import { randomUUID } from 'node:crypto';
import type { Logger } from '@airlock/logging';
import { AirlockError } from '@airlock/errors';
import type { PolicyBundle } from './load.js';
import { preparsePolicySet, statefulIsAuthorized } from './cedar.js';
import type { CedarRequest } from './entities.js';

/** Cedar's answer for one (principal, action, resource). */
export interface CedarOutcome {
  readonly decision: 'allow' | 'deny';
  /** Ids of the policies that were satisfied: permits when allowed, forbids when denied (none when nothing permits). */
  readonly policyIds: readonly string[];
}

export type Evaluate = (request: CedarRequest) => CedarOutcome;

/**
 * Parses the bundle once into Cedar's cache under `policySetId` (replacing what that id held) and returns an evaluator
 * over it. The engine alternates two ids, so a reload prepares the next set beside the one that is serving and Cedar's
 * cache holds at most two sets per engine; without an id, a fresh one is used.
 */
export function prepareEvaluator(bundle: PolicyBundle, logger: Logger, policySetId = `airlock-${randomUUID()}`): Evaluate {
  const prepared = preparsePolicySet(policySetId, { staticPolicies: { ...bundle.policies } });
  if (prepared.type === 'failure') {
    throw new AirlockError('InvalidConfiguration', `Cedar rejected the policy set: ${prepared.errors.map((e) => e.message).join('; ')}`);
  }
  return (request) => {
    const answer = statefulIsAuthorized({ ...request, preparsedPolicySetId: policySetId });
    if (answer.type === 'failure') {
      // Only malformed requests get here (entity JSON Cedar cannot read); the edge fails closed on this error.
      throw new AirlockError('Internal', 'The policy engine could not evaluate the request.', {
        cause: new Error(answer.errors.map((error) => error.message).join('; ')),
      });
    }
    const { decision, diagnostics } = answer.response;
    for (const { policyId, error } of diagnostics.errors) {
      // A policy that errors is skipped by Cedar (a forbid that errors does not forbid), so authors must hear about it.
      logger.warn({ policyId, error: error.message, action: request.action }, 'policy evaluation error; policy ignored for this call');
    }
    return { decision, policyIds: [...diagnostics.reason].sort() };
  };
}
