import type { ApprovalRequirement } from '@airlock/contracts';
import { AirlockError } from '@airlock/errors';

/** @default 900 — how long a request waits for a decision when the requirement does not say. */
export const defaultPendingTtlSeconds = 15 * 60;
/** @default 600 — how long an approved request may be used when the requirement does not say. */
export const defaultGrantWindowSeconds = 10 * 60;

/** Fills the requirement's zero values with defaults and refuses one that nobody could satisfy. */
export function normalizeRequirement(requirement: ApprovalRequirement | undefined): ApprovalRequirement {
  const approverGroups = [...new Set((requirement?.approverGroups ?? []).map((group) => group.trim()).filter((group) => group !== ''))];
  if (approverGroups.length === 0) {
    throw new AirlockError('InvalidRequest', 'An approval request must name at least one approver group.');
  }
  return {
    approverGroups,
    quorum: Math.max(1, requirement?.quorum ?? 0),
    pendingTtlSeconds: requirement?.pendingTtlSeconds || defaultPendingTtlSeconds,
    grantWindowSeconds: requirement?.grantWindowSeconds || defaultGrantWindowSeconds,
  };
}
