export { createPolicyService, type PolicyServiceOptions } from './service.js';
export { defaultGrantWindowSeconds, defaultPendingTtlSeconds } from './annotations.js';
export { defaultMaskingProfile } from './decide.js';
export { anyResourceId, assumeRoleAction } from './entities.js';
