export { createCredentialVendingService, type CredentialVendingOptions, type SharedCacheSettings } from './service.js';
export { createAwsSts, type AssumeRoleInput, type AssumedCredentials, type AwsStsOptions, type Sts } from './sts.js';
export { parseKeyRing, type KeyRing } from './sealing.js';
export type { RetryPolicy } from './retry.js';
