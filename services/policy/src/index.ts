export { createPolicyService, type PolicyServiceOptions, type PolicyServiceRuntime } from './service.js';
export { PolicyEngine, type PolicyEngineOptions, type PolicySnapshot, type ReloadResult, type WatchOptions } from './engine.js';
export { resolvePolicyFiles, validatePolicies, type PolicyFile, type ValidationReport } from './load.js';
export { defaultGrantWindowSeconds, defaultPendingTtlSeconds, type ApprovalMeta, type PolicyMeta } from './annotations.js';
export { defaultMaskingProfile } from './decide.js';
export { anyResourceId, assumeRoleAction } from './entities.js';
export { differences, ShadowEvaluator, type ShadowCounts } from './shadow.js';
export { policySchema } from './schema.js';
