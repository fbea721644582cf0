import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { createLogger } from './logger.js';

describe('createLogger', () => {
  it('redacts secret fields wherever a careless caller puts them', () => {
    const destination = new PassThrough();
    const chunks: Buffer[] = [];
    destination.on('data', (chunk: Buffer) => chunks.push(chunk));
    const logger = createLogger({ service: 'test', destination });
    logger.info({ credentials: { secretAccessKey: 'wJalrXUtnFEMI', sessionToken: 'FwoGZX' }, headers: { authorization: 'AWS4-HMAC' } }, 'oops');
    const line = Buffer.concat(chunks).toString();
    expect(line).toContain('"service":"test"');
    expect(line).not.toContain('wJalrXUtnFEMI');
    expect(line).not.toContain('FwoGZX');
    expect(line).not.toContain('AWS4-HMAC');
    expect(line).toContain('[REDACTED]');
  });
});
