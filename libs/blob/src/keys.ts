import { AirlockError } from '@airlock/errors';

const MAX_KEY_BYTES = 1024;

/**
 * The keys both drivers accept, so that what was written to one can be moved to the other: slash-separated
 * segments, none empty, '.' or '..', no control characters or backslashes, at most 1024 UTF-8 bytes like S3.
 */
export function validateKey(key: string): void {
  const fail = (why: string): never => {
    throw new AirlockError('InvalidRequest', `Invalid object key ${JSON.stringify(key)}: ${why}.`);
  };
  if (typeof key !== 'string' || key.length === 0) fail('empty');
  if (Buffer.from(key, 'utf8').toString('utf8') !== key) fail('not well-formed Unicode');
  if (Buffer.byteLength(key, 'utf8') > MAX_KEY_BYTES) fail(`longer than ${MAX_KEY_BYTES} bytes`);
  // eslint-disable-next-line no-control-regex
  if (/[\u0000-\u001f\u007f\\]/.test(key)) fail('control characters and backslashes are not allowed');
  for (const segment of key.split('/')) {
    if (segment === '') fail('empty path segment (leading, trailing or double slash)');
    if (segment === '.' || segment === '..') fail(`'${segment}' segments are not allowed`);
  }
}

/** S3 lists keys in the order of their UTF-8 bytes; JavaScript compares UTF-16 units, which differs above U+FFFF. */
export function compareKeys(a: string, b: string): number {
  return Buffer.compare(Buffer.from(a, 'utf8'), Buffer.from(b, 'utf8'));
}
