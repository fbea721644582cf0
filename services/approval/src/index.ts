export { createApprovalService, defaultListLimit, type ApprovalServiceOptions } from './service.js';
export { defaultGrantWindowSeconds, defaultPendingTtlSeconds } from './requirement.js';
