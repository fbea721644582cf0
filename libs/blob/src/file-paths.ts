import { join } from 'node:path';
import { AirlockError } from '@airlock/errors';

/*
 * Keys map to paths segment by segment, so that listing a prefix reads one folder. Each segment is
 * percent-encoded down to [A-Za-z0-9_-] — so no segment can be '.', '..', contain a separator, or differ only in
 * Unicode normalisation — and objects get the suffix '.b', which an encoded name cannot contain. That keeps the
 * object "a" (a.b) apart from the folder of "a/b" (a/), which S3 allows side by side. Names starting with '.' are
 * temporary files.
 */

export const OBJECT_SUFFIX = '.b';
const MAX_NAME_BYTES = 255;

export function encodeSegment(segment: string): string {
  let out = '';
  for (const byte of Buffer.from(segment, 'utf8')) {
    const c = String.fromCharCode(byte);
    out += /[A-Za-z0-9_-]/.test(c) ? c : `%${byte.toString(16).toUpperCase().padStart(2, '0')}`;
  }
  return out;
}

export function decodeSegment(name: string): string | undefined {
  if (!/^(?:[A-Za-z0-9_-]|%[0-9A-F]{2})+$/.test(name)) return undefined;
  try {
    return decodeURIComponent(name);
  } catch {
    return undefined;
  }
}

/** The object's path; the key is already validated. */
export function objectPath(root: string, key: string): string {
  const segments = key.split('/').map(encodeSegment);
  const last = segments.length - 1;
  segments[last] = `${segments[last]}${OBJECT_SUFFIX}`;
  for (const name of segments) {
    if (Buffer.byteLength(name) > MAX_NAME_BYTES) {
      throw new AirlockError('InvalidRequest', `Object key ${JSON.stringify(key)} has a segment too long for the file blob store.`);
    }
  }
  return join(root, ...segments);
}

export function folderPath(root: string, segments: string[]): string {
  return join(root, ...segments.map(encodeSegment));
}
