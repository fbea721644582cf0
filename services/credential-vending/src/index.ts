export { createCredentialVendingService, type CredentialVendingOptions } from './service.js';
export { createAwsSts, type AssumeRoleInput, type AssumedCredentials, type AwsStsOptions, type Sts } from './sts.js';
