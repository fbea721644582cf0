import { pino, type Logger, type LoggerOptions } from 'pino';
import { logLineContext } from './call-context.js';

export type { Logger } from 'pino';

/**
 * Field names that may hold secrets anywhere in a log object. Redaction is a backstop: code must not log secrets
 * in the first place, but a whole request or config object logged by mistake still comes out clean.
 */
const secretKeys = [
  'authorization',
  'x-amz-security-token',
  'sessionToken',
  'secretAccessKey',
  'SecretAccessKey',
  'SessionToken',
  'token',
  'webIdentityToken',
  'WebIdentityToken',
  'password',
  'clientSecret',
  'privateKey',
  'cookie',
];
const redactPaths = secretKeys.flatMap((key) => [key, `*.${key}`, `*.*.${key}`, `headers["${key}"]`]);

export interface LoggerSettings {
  level?: LoggerOptions['level'];
  /** Service name on every line. */
  service: string;
  /** Where lines go; defaults to stdout. Tests pass a stream they can scan. */
  destination?: NodeJS.WritableStream;
}

export function createLogger(settings: LoggerSettings): Logger {
  const options: LoggerOptions = {
    level: settings.level ?? 'info',
    base: { service: settings.service },
    redact: { paths: redactPaths, censor: '[REDACTED]' },
    // Every line written while a call is served names it (requestId) and its trace, in whichever module it is written.
    mixin: logLineContext,
    timestamp: pino.stdTimeFunctions.isoTime,
  };
  return settings.destination ? pino(options, settings.destination) : pino(options);
}
