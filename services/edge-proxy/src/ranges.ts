/**
 * HTTP byte ranges (RFC 9110 §14) as S3 reads them: one range per request, `bytes=first-last`, `bytes=first-` or the
 * suffix `bytes=-length`. S3 answers anything else (several ranges, another unit, a malformed header) with the whole
 * object, as if there were no Range header.
 */
export type ByteRange = { first: number; last?: number } | { suffix: number };

/** Where a range lies in a body of `total` bytes. */
export interface Span {
  first: number;
  last: number;
  total: number;
}

/** The one byte range a Range header asks for, or undefined when it is not a single byte range. */
export function parseRange(header: string | undefined): ByteRange | undefined {
  const match = /^\s*bytes\s*=\s*(\d{0,15})\s*-\s*(\d{0,15})\s*$/i.exec(header ?? '');
  if (!match) return undefined;
  const [, first = '', last = ''] = match;
  if (first === '') return last === '' ? undefined : { suffix: Number(last) };
  if (last !== '' && Number(last) < Number(first)) return undefined;
  return last === '' ? { first: Number(first) } : { first: Number(first), last: Number(last) };
}

/** The range `margin` bytes wider on both sides. */
export function widenRange(range: ByteRange, margin: number): ByteRange {
  if ('suffix' in range) return { suffix: range.suffix + margin };
  const first = Math.max(0, range.first - margin);
  return range.last === undefined ? { first } : { first, last: range.last + margin };
}

/** A range as a Range header's value. */
export function formatRange(range: ByteRange): string {
  if ('suffix' in range) return `bytes=-${range.suffix}`;
  return `bytes=${range.first}-${range.last ?? ''}`;
}

/** The bytes a range covers in a body of `total` bytes, or undefined when it is not satisfiable (RFC 9110 §14.1.1). */
export function resolveRange(range: ByteRange, total: number): Span | undefined {
  if ('suffix' in range) return range.suffix === 0 || total === 0 ? undefined : { first: Math.max(0, total - range.suffix), last: total - 1, total };
  if (range.first >= total) return undefined;
  return { first: range.first, last: Math.min(range.last ?? total - 1, total - 1), total };
}

/** A Content-Range header of a 206 answer (`bytes first-last/total`); undefined when it is anything else. */
export function parseContentRange(header: string | undefined): Span | undefined {
  const match = /^\s*bytes\s+(\d{1,15})-(\d{1,15})\/(\d{1,15})\s*$/i.exec(header ?? '');
  if (!match) return undefined;
  const [first, last, total] = match.slice(1).map(Number) as [number, number, number];
  return first <= last && last < total ? { first, last, total } : undefined;
}

export function contentRange(span: Span): string {
  return `bytes ${span.first}-${span.last}/${span.total}`;
}

/**
 * Cuts bytes `skip` to `skip + take` out of a stream that arrives in chunks; what lies outside comes back empty.
 * Chunks may be views of a larger buffer (gRPC messages are): the cut is a view too, nothing is copied.
 */
export function createCut(skip: number, take: number): (chunk: Buffer) => Buffer {
  let at = 0;
  return (chunk) => {
    const from = Math.max(0, skip - at);
    const to = Math.max(from, Math.min(chunk.length, skip + take - at));
    at += chunk.length;
    return chunk.subarray(from, to);
  };
}
