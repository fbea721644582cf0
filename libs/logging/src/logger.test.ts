import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { addCallBindings, callBindings, runWithCallBindings } from './call-context.js';
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

describe('call bindings', () => {
  const capture = () => {
    const destination = new PassThrough();
    const lines: string[] = [];
    destination.on('data', (chunk: Buffer) => lines.push(...chunk.toString().split('\n').filter(Boolean)));
    return { logger: createLogger({ service: 'test', destination }), lines };
  };

  it('puts the request id on every line written during the call, from any logger, and on none outside it', async () => {
    const { logger, lines } = capture();
    const other = logger.child({ module: 'elsewhere' });
    await runWithCallBindings({}, async () => {
      logger.info('before the id is known');
      addCallBindings({ requestId: 'req-1' });
      await new Promise((resolve) => setTimeout(resolve, 1));
      other.warn({ credentials: { secretAccessKey: 'wJalrXUtnFEMI' } }, 'deep inside');
      expect(callBindings()).toEqual({ requestId: 'req-1' });
    });
    logger.info('after');
    const parsed = lines.map((line) => JSON.parse(line) as Record<string, unknown>);
    expect(parsed.map((line) => line.requestId)).toEqual([undefined, 'req-1', undefined]);
    expect(lines.join('\n')).not.toContain('wJalrXUtnFEMI');
  });

  it('keeps concurrent calls apart', async () => {
    const { logger, lines } = capture();
    await Promise.all(
      ['a', 'b', 'c'].map((id) =>
        runWithCallBindings({ requestId: id }, async () => {
          await new Promise((resolve) => setTimeout(resolve, id === 'a' ? 5 : 1));
          logger.info({ expected: id }, 'done');
        }),
      ),
    );
    for (const line of lines.map((text) => JSON.parse(text) as Record<string, unknown>)) expect(line.requestId).toBe(line.expected);
  });
});
