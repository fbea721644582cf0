export type { ClaimMapping, IssuerConfig, IssuerKind, VerifiedIdentity } from './oidc-types.js';
export type { KeyCachePolicy } from './issuer-keys.js';
export { createTokenVerifier, readClaim, type TokenVerifier, type TokenVerifierOptions } from './token-verifier.js';
export { assertRoleAllowed, roleMatches } from './roles.js';
export type { SessionClaims, SessionCredentials, SessionKeyRing } from './session-types.js';
export { createSessionAuthority } from './session-authority.js';
export { parseSessionKeyRing } from './session-keys.js';
