export { createRecorderService, type RecorderOptions } from './service.js';
export type { BackoffOptions } from './backoff.js';
