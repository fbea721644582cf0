export { AirlockError, toAirlockError } from './airlock-error.js';
export { errorRegistry, isAirlockErrorCode, type AirlockErrorCode, type ErrorSpec } from './registry.js';
