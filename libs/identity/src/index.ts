export type { IssuerConfig, VerifiedIdentity } from './oidc-types.js';
export { createTokenVerifier } from './token-verifier.js';
export type { SessionClaims, SessionCredentials, SessionKeyRing } from './session-types.js';
export { createSessionAuthority } from './session-authority.js';
export { parseSessionKeyRing } from './session-keys.js';
