export { addCallBindings, callBindings, runWithCallBindings, type CallBindings } from './call-context.js';
export { createLogger, type Logger, type LoggerSettings } from './logger.js';
