export { createRecorderService, type RecorderOptions } from './service.js';
export type { BackoffOptions } from './backoff.js';
export { createQueryHandlers, type QueryDependencies } from './queries.js';
export { verifySession, type VerificationProblem, type VerificationReport } from './verify.js';
export { parseSigningKey, type SigningKey, type RecordingDigest } from './chain.js';
