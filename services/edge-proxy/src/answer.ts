import { once } from 'node:events';
import type { IncomingHttpHeaders, ServerResponse } from 'node:http';
import { pipeline } from 'node:stream/promises';
import { Transform } from 'node:stream';
import { crc32 } from 'node:zlib';
import type { MaskedValue, MaskingServiceService, MaskRequest, PlanResponse } from '@airlock/contracts';
import { AirlockError } from '@airlock/errors';
import type { Logger } from '@airlock/logging';
import type { ServiceClient } from '@airlock/transport';
import { headersForHeldBody, headersForRange, headersForStreamedBody } from './answer-headers.js';
import type { UpstreamResponse } from './forward.js';
import { firstHeader, isHopByHop } from './http.js';
import { createCut, formatRange, parseContentRange, parseRange, resolveRange, widenRange, type ByteRange, type Span } from './ranges.js';

/**
 * What a masking failure (the masking service down or failing, an answer that is not what its content type says)
 * does to the answer: `strict` withholds it and the client gets a retryable ServiceUnavailable; `open` sends an answer
 * that was still held whole unmasked (logged), and cuts a longer one off.
 */
export type MaskingFailureMode = 'strict' | 'open';

/** Reads a byte range (a Range header's value) of the object version with this ETag again, from the same endpoint. */
export type Refetch = (range: string, etag: string) => Promise<UpstreamResponse>;

export interface AnswerPlan {
  masking: ServiceClient<typeof MaskingServiceService>;
  profile: string;
  service: string;
  operation: string;
  method: string;
  signal: AbortSignal;
  failure: MaskingFailureMode;
  /**
   * Masked answers up to this size are held whole before anything is sent: their headers (Content-Length, checksums)
   * describe the masked bytes, and a masking failure can still become a clean error. Longer ones stream.
   */
  holdBytes: number;
  logger: Logger;
  /** The byte range the client asked for, when `widenForMasking` widened it: the answer is cut back to it. */
  range?: ByteRange;
  /** For a partial answer the edge did not widen (a `partNumber` read) that needs masking. */
  refetch?: Refetch;
}

export interface AnswerResult {
  bytesOut: number;
  masked: MaskedValue[];
  /** Set when the answer went out unmasked (masking failed under masking.failure: open): what failed, for the record. */
  unmasked?: string;
}

type Headers = Record<string, string | string[]>;
type Planned = Pick<PlanResponse, 'transform' | 'rangeMargin'>;

/** Which bytes of a body the client gets, with the headers (206, Content-Range, exact Content-Length) that say so. */
interface Slice {
  skip: number;
  take: number;
  headers: Headers;
}

const planCache = new Map<string, Planned>();

/**
 * Ranged reads under masking (README, Masking). Masking a range alone would miss a secret that straddles its edges (two
 * reads would give away both halves) and, by changing its length, would break Content-Range (the AWS CLI writes each
 * part of a download at its offset). So before forwarding, a GET for one byte range is widened by the profile's
 * `rangeMargin` on both sides; the answer is masked as a range (every replacement as long as the secret) and the
 * requested bytes are cut out of it (`sendPart`). A Range header that is not one byte range (several ranges, another
 * unit, malformed) is dropped: S3 ignores those and answers with the whole object, which is masked whole, and nothing
 * can then come back as a multipart body that masking would take for binary. Profiles that mask nothing, HEAD and
 * other methods are forwarded as they are. In strict mode a profile that cannot be planned withholds the call before
 * anything is forwarded; in open mode it is forwarded as asked and its answer planned as any other.
 */
export async function widenForMasking(headers: IncomingHttpHeaders, plan: AnswerPlan): Promise<{ headers: IncomingHttpHeaders; range?: ByteRange }> {
  const asked = firstHeader(headers, 'range');
  if (plan.method !== 'GET' || asked === undefined) return { headers };
  let margin: number;
  try {
    margin = (await planFor(plan, '')).rangeMargin;
  } catch (error) {
    if (plan.signal.aborted) throw error;
    if (plan.failure === 'strict') throw withheld(error);
    return { headers };
  }
  if (margin === 0) return { headers };
  const rest = { ...headers };
  delete rest.range;
  const range = parseRange(asked);
  if (!range) return { headers: rest };
  return { headers: { ...rest, range: formatRange(widenRange(range, margin)) }, range };
}

/**
 * Sends the upstream answer to the client. Bodies that may hold secrets go through the masking stream; binary bodies
 * and HEAD answers go straight through. Plans are pure functions of their inputs, so they are cached.
 */
export async function sendAnswer(upstream: UpstreamResponse, response: ServerResponse, plan: AnswerPlan): Promise<AnswerResult> {
  const contentType = firstHeader(upstream.headers, 'content-type') ?? '';
  const headers: Headers = {};
  for (const [name, value] of Object.entries(upstream.headers)) {
    if (value !== undefined && !isHopByHop(name)) headers[name] = value;
  }
  if (plan.method === 'HEAD') return passThrough(upstream, response, headers);
  const partial = upstream.statusCode === 206;
  let planned: Planned;
  try {
    planned = await planFor(plan, contentType);
  } catch (error) {
    // Open mode lets through unmasked only what it could have held whole, as when masking fails mid-answer; an answer
    // of unknown or greater length is withheld like in strict mode.
    const declaredLength = Number(firstHeader(upstream.headers, 'content-length') || Number.NaN);
    const holdable = declaredLength <= plan.holdBytes;
    if (plan.failure === 'strict' || !holdable || plan.signal.aborted) {
      upstream.body.destroy();
      throw plan.signal.aborted ? error : withheld(error);
    }
    plan.logger.warn({ err: error, service: plan.service, operation: plan.operation }, 'masking failed; the answer passes unmasked (masking.failure: open)');
    const sent = await (partial && plan.range ? sendPart(upstream, response, headers, contentType, { transform: false, rangeMargin: 0 }, plan) : passThrough(upstream, response, headers));
    return { ...sent, unmasked: unmaskedReason(error) };
  }
  if (partial && (plan.range || planned.transform)) return sendPart(upstream, response, headers, contentType, planned, plan);
  if (!planned.transform) return passThrough(upstream, response, headers);
  return maskAnswer(upstream, response, headers, contentType, plan);
}

/**
 * A 206 answer. Of a range the edge widened, the bytes the client asked for are cut out (masked first when the body
 * needs it), and sent as the 206 the upstream would have sent for the client's own range; a range past the end gets
 * S3's 416.
 */
async function sendPart(upstream: UpstreamResponse, response: ServerResponse, headers: Headers, contentType: string, planned: Planned, plan: AnswerPlan): Promise<AnswerResult> {
  if (planned.transform && planned.rangeMargin === 0) {
    // A masking service from before ranged reads (it neither widens nor keeps lengths): no part can be masked safely.
    upstream.body.destroy();
    throw withheld(new Error('the masking service gives no range margin for a profile that masks'));
  }
  const got = parseContentRange(firstHeader(upstream.headers, 'content-range'));
  if (!plan.range) return sendUnwidenedPart(upstream, response, headers, contentType, planned, plan, got);
  if (!got) {
    upstream.body.destroy();
    throw new AirlockError('Internal', 'AWS answered a ranged read without a Content-Range Airlock can read.');
  }
  const wanted = resolveRange(plan.range, got.total);
  if (!wanted) {
    upstream.body.destroy();
    return sendUnsatisfiable(response, headers, plan.range, got.total);
  }
  if (wanted.first < got.first || wanted.last > got.last) {
    upstream.body.destroy();
    throw new AirlockError('Internal', `AWS answered bytes ${got.first}-${got.last} of a ranged read for bytes ${wanted.first}-${wanted.last}.`);
  }
  const slice = sliceOf(got, wanted, headers);
  return planned.transform ? maskAnswer(upstream, response, headers, contentType, plan, slice) : passThrough(upstream, response, headers, slice);
}

/**
 * A partial answer the edge did not widen (a `partNumber` read) that needs masking: masked as a range when it is the
 * whole object, and otherwise read again, widened, for the same object version (If-Match its ETag) and cut. It is
 * never masked without the bytes around it.
 */
async function sendUnwidenedPart(
  upstream: UpstreamResponse,
  response: ServerResponse,
  headers: Headers,
  contentType: string,
  planned: Planned,
  plan: AnswerPlan,
  got: Span | undefined,
): Promise<AnswerResult> {
  if (got && got.first === 0 && got.last === got.total - 1) return maskAnswer(upstream, response, headers, contentType, plan, sliceOf(got, got, headers));
  upstream.body.destroy();
  const etag = firstHeader(upstream.headers, 'etag');
  if (!got || !etag || !plan.refetch) throw withheld(new Error('a partial answer without Content-Range or ETag cannot be read again with its margins'));
  const again = await plan.refetch(formatRange(widenRange({ first: got.first, last: got.last }, planned.rangeMargin)), etag);
  const wide = again.statusCode === 206 ? parseContentRange(firstHeader(again.headers, 'content-range')) : undefined;
  if (!wide || wide.total !== got.total || wide.first > got.first || wide.last < got.last) {
    again.body.destroy();
    throw withheld(new Error(`reading a part again with its margins answered ${again.statusCode} ${firstHeader(again.headers, 'content-range') ?? ''}`));
  }
  return maskAnswer(again, response, headers, contentType, plan, sliceOf(wide, got, headers));
}

/** The part `wanted` of a body that holds the bytes `got`. */
function sliceOf(got: Span, wanted: Span, headers: Headers): Slice {
  return { skip: wanted.first - got.first, take: wanted.last - wanted.first + 1, headers: headersForRange(headers, wanted) };
}

/** What S3 answers for a range that starts past the end of the object. */
function sendUnsatisfiable(response: ServerResponse, upstream: Headers, range: ByteRange, total: number): AnswerResult {
  const requestId = firstHeader(upstream, 'x-amz-request-id') ?? '';
  const body = Buffer.from(
    '<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>InvalidRange</Code><Message>The requested range is not satisfiable</Message>' +
      `<RangeRequested>${formatRange(range)}</RangeRequested><ActualObjectSize>${total}</ActualObjectSize><RequestId>${requestId}</RequestId></Error>`,
  );
  response.writeHead(416, {
    ...(requestId ? { 'x-amz-request-id': requestId } : {}),
    'content-type': 'application/xml',
    'content-range': `bytes */${total}`,
    'content-length': String(body.length),
  });
  response.end(body);
  return { bytesOut: body.length, masked: [] };
}

async function passThrough(upstream: UpstreamResponse, response: ServerResponse, headers: Headers, slice?: Slice): Promise<AnswerResult> {
  response.writeHead(slice ? 206 : upstream.statusCode, slice?.headers ?? headers);
  const cut = slice ? createCut(slice.skip, slice.take) : (chunk: Buffer) => chunk;
  let bytesOut = 0;
  const counter = new Transform({
    transform(chunk: Buffer, _encoding, callback) {
      const part = cut(chunk);
      bytesOut += part.length;
      callback(null, part);
    },
  });
  await pipeline(upstream.body, counter, response);
  return { bytesOut, masked: [] };
}

/**
 * The masked answer is held until it is complete or longer than `holdBytes`. Held whole, it goes out with
 * headers that describe it (or, when masking changed nothing, with the upstream's own); longer, it streams with the
 * body-bound headers dropped. Nothing is sent before the masking stream has produced it, so no unmasked byte ever
 * reaches the client in strict mode. A slice (of a ranged read) is masked as a range, so that it keeps its length, and
 * is cut out of the masked bytes; its headers are known from the start.
 */
async function maskAnswer(
  upstream: UpstreamResponse,
  response: ServerResponse,
  headers: Headers,
  contentType: string,
  plan: AnswerPlan,
  slice?: Slice,
): Promise<AnswerResult> {
  const reader = (upstream.body as AsyncIterable<Buffer>)[Symbol.asyncIterator]();
  /** The read in flight when the stream failed: its chunk belongs to the unmasked answer `open` mode may send. */
  let pendingRead: Promise<IteratorResult<Buffer>> | undefined;
  let stopped = false;
  // What came from upstream, for the "unchanged" check and, in open mode, to send it unmasked.
  let inputBytes = 0;
  let inputCrc = 0;
  const original: Buffer[] | undefined = plan.failure === 'open' ? [] : undefined;
  let originalWhole = true;
  const noteInput = (chunk: Buffer) => {
    inputBytes += chunk.length;
    inputCrc = crc32(chunk, inputCrc);
    if (!original || !originalWhole) return;
    if (inputBytes > plan.holdBytes) {
      originalWhole = false;
      original.length = 0;
    } else original.push(chunk);
  };
  const header = { profile: plan.profile, service: plan.service, operation: plan.operation, contentType, ranged: slice !== undefined };
  const requests = async function* (): AsyncIterable<MaskRequest> {
    yield { part: { $case: 'header', value: header } };
    for (;;) {
      pendingRead = reader.next();
      const read = await pendingRead;
      pendingRead = undefined;
      if (stopped || read.done) return;
      noteInput(read.value);
      yield { part: { $case: 'data', value: read.value } };
    }
  };

  const status = slice ? 206 : upstream.statusCode;
  const cut = slice ? createCut(slice.skip, slice.take) : (chunk: Buffer) => chunk;
  let maskedBytes = 0;
  let bytesOut = 0;
  let masked: MaskedValue[] = [];
  const held: Buffer[] = [];
  let outputCrc = 0;
  let streaming = false;
  try {
    for await (const output of plan.masking.mask(requests(), { signal: plan.signal })) {
      if (output.masked.length > 0) masked = output.masked;
      maskedBytes += output.data.length;
      const data = cut(output.data);
      if (data.length === 0) continue;
      bytesOut += data.length;
      if (!streaming) {
        held.push(data);
        outputCrc = crc32(data, outputCrc);
        if (bytesOut <= plan.holdBytes) continue;
        streaming = true;
        response.writeHead(status, slice?.headers ?? headersForStreamedBody(headers));
        for (const part of held.splice(0)) response.write(part);
      } else response.write(data);
      if (response.writableNeedDrain) await once(response, 'drain');
    }
    // Content-Range and Content-Length of a slice were promised before masking ended: a slice that came out of another
    // length (which a masking service that ignores `ranged` would produce) is a failure, not an answer.
    if (slice && (maskedBytes !== inputBytes || bytesOut !== slice.take)) {
      throw new AirlockError('Internal', `masking a range of ${inputBytes} bytes returned ${maskedBytes}; ${bytesOut} of ${slice.take} bytes were cut out`);
    }
  } catch (error) {
    stopped = true;
    if (plan.signal.aborted) {
      upstream.body.destroy();
      throw error;
    }
    // Once bytes went out, the answer can only be cut off (the pipeline destroys the connection).
    if (plan.failure === 'open' && !streaming && original && originalWhole) {
      const whole = await readRest(original, pendingRead, reader, plan.holdBytes - inputBytes).catch(() => undefined);
      const body = slice ? whole?.subarray(slice.skip, slice.skip + slice.take) : whole;
      if (body && (!slice || body.length === slice.take)) {
        plan.logger.warn({ err: error, service: plan.service, operation: plan.operation }, 'masking failed; the answer passes unmasked (masking.failure: open)');
        response.writeHead(status, slice?.headers ?? { ...headers, 'content-length': String(body.length) });
        response.end(body);
        return { bytesOut: body.length, masked: [], unmasked: unmaskedReason(error) };
      }
    }
    upstream.body.destroy();
    throw withheld(error);
  }
  if (streaming) {
    response.end();
    return { bytesOut, masked };
  }
  const body = Buffer.concat(held);
  const unchanged = masked.length === 0 && body.length === inputBytes && outputCrc === inputCrc;
  response.writeHead(status, slice?.headers ?? (unchanged ? { ...headers, 'content-length': String(body.length) } : headersForHeldBody(headers, body)));
  response.end(body);
  return { bytesOut, masked };
}

/** What failed, as the call's record keeps it: the error's message (masking errors never quote the answer). */
function unmaskedReason(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  return (message || 'masking failed').slice(0, 500);
}

/** The unmasked answer: what was read so far plus the rest, or undefined when it is longer than `room` more bytes. */
async function readRest(
  read: Buffer[],
  pendingRead: Promise<IteratorResult<Buffer>> | undefined,
  reader: AsyncIterator<Buffer>,
  room: number,
): Promise<Buffer | undefined> {
  const parts = [...read];
  let left = room;
  for (let next = pendingRead ?? reader.next(); ; next = reader.next()) {
    const result = await next;
    if (result.done) return Buffer.concat(parts);
    left -= result.value.length;
    if (left < 0) return undefined;
    parts.push(result.value);
  }
}

function withheld(error: unknown): AirlockError {
  return new AirlockError('DependencyUnavailable', 'Airlock could not mask the answer, so it was withheld. Retry later.', { cause: error });
}

/** The masking service's plan for this answer; the content type is '' before the answer is known (for its margin). */
async function planFor(plan: AnswerPlan, contentType: string): Promise<Planned> {
  const key = `${plan.profile}\u0000${plan.service}\u0000${plan.operation}\u0000${contentType}`;
  const cached = planCache.get(key);
  if (cached !== undefined) return cached;
  const { transform, rangeMargin } = await plan.masking.plan(
    { profile: plan.profile, service: plan.service, operation: plan.operation, contentType },
    { signal: plan.signal },
  );
  if (planCache.size > 10_000) planCache.clear();
  planCache.set(key, { transform, rangeMargin });
  return { transform, rangeMargin };
}
