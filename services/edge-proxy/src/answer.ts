import { once } from 'node:events';
import type { ServerResponse } from 'node:http';
import { pipeline } from 'node:stream/promises';
import { Transform } from 'node:stream';
import { crc32 } from 'node:zlib';
import type { MaskedValue, MaskingServiceService, MaskRequest } from '@airlock/contracts';
import { AirlockError } from '@airlock/errors';
import type { Logger } from '@airlock/logging';
import type { ServiceClient } from '@airlock/transport';
import { headersForHeldBody, headersForStreamedBody } from './answer-headers.js';
import type { UpstreamResponse } from './forward.js';
import { isHopByHop } from './http.js';

/**
 * What a masking failure (the masking service down or failing, an answer that is not what its content type says)
 * does to the answer: `strict` withholds it and the client gets a retryable ServiceUnavailable; `open` sends an answer
 * that was still held whole unmasked (logged), and cuts a longer one off.
 */
export type MaskingFailureMode = 'strict' | 'open';

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
}

export interface AnswerResult {
  bytesOut: number;
  masked: MaskedValue[];
}

type Headers = Record<string, string | string[]>;

const planCache = new Map<string, boolean>();

/**
 * Sends the upstream answer to the client. Bodies that may hold secrets go through the masking stream; binary bodies
 * and HEAD answers go straight through. Plans are pure functions of their inputs, so they are cached.
 */
export async function sendAnswer(upstream: UpstreamResponse, response: ServerResponse, plan: AnswerPlan): Promise<AnswerResult> {
  const contentType = headerString(upstream.headers['content-type']);
  const headers: Headers = {};
  for (const [name, value] of Object.entries(upstream.headers)) {
    if (value !== undefined && !isHopByHop(name)) headers[name] = value;
  }
  if (plan.method === 'HEAD') return passThrough(upstream, response, headers);
  let transform: boolean;
  try {
    transform = await needsMasking(plan, contentType);
  } catch (error) {
    // Open mode lets through unmasked only what it could have held whole, as when masking fails mid-answer; an answer
    // of unknown or greater length is withheld like in strict mode.
    const declaredLength = Number(headerString(upstream.headers['content-length']) || Number.NaN);
    const holdable = declaredLength <= plan.holdBytes;
    if (plan.failure === 'strict' || !holdable || plan.signal.aborted) {
      upstream.body.destroy();
      throw plan.signal.aborted ? error : withheld(error);
    }
    plan.logger.warn({ err: error, service: plan.service, operation: plan.operation }, 'masking failed; the answer passes unmasked (masking.failure: open)');
    return passThrough(upstream, response, headers);
  }
  if (!transform) return passThrough(upstream, response, headers);
  return maskAnswer(upstream, response, headers, contentType, plan);
}

async function passThrough(upstream: UpstreamResponse, response: ServerResponse, headers: Headers): Promise<AnswerResult> {
  response.writeHead(upstream.statusCode, headers);
  let bytesOut = 0;
  const counter = new Transform({
    transform(chunk: Buffer, _encoding, callback) {
      bytesOut += chunk.length;
      callback(null, chunk);
    },
  });
  await pipeline(upstream.body, counter, response);
  return { bytesOut, masked: [] };
}

/**
 * The masked answer is held until it is complete or longer than `holdBytes`. Held whole, it goes out with
 * headers that describe it (or, when masking changed nothing, with the upstream's own); longer, it streams with the
 * body-bound headers dropped. Nothing is sent before the masking stream has produced it, so no unmasked byte ever
 * reaches the client in strict mode.
 */
async function maskAnswer(upstream: UpstreamResponse, response: ServerResponse, headers: Headers, contentType: string, plan: AnswerPlan): Promise<AnswerResult> {
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
  const requests = async function* (): AsyncIterable<MaskRequest> {
    yield { part: { $case: 'header', value: { profile: plan.profile, service: plan.service, operation: plan.operation, contentType } } };
    for (;;) {
      pendingRead = reader.next();
      const read = await pendingRead;
      pendingRead = undefined;
      if (stopped || read.done) return;
      noteInput(read.value);
      yield { part: { $case: 'data', value: read.value } };
    }
  };

  let bytesOut = 0;
  let masked: MaskedValue[] = [];
  const held: Buffer[] = [];
  let outputCrc = 0;
  let streaming = false;
  try {
    for await (const output of plan.masking.mask(requests(), { signal: plan.signal })) {
      if (output.masked.length > 0) masked = output.masked;
      const data = output.data;
      if (data.length === 0) continue;
      bytesOut += data.length;
      if (!streaming) {
        held.push(data);
        outputCrc = crc32(data, outputCrc);
        if (bytesOut <= plan.holdBytes) continue;
        streaming = true;
        response.writeHead(upstream.statusCode, headersForStreamedBody(headers));
        for (const part of held.splice(0)) response.write(part);
      } else response.write(data);
      if (response.writableNeedDrain) await once(response, 'drain');
    }
  } catch (error) {
    stopped = true;
    if (plan.signal.aborted) {
      upstream.body.destroy();
      throw error;
    }
    // Once bytes went out, the answer can only be cut off (the pipeline destroys the connection).
    if (plan.failure === 'open' && !streaming && original && originalWhole) {
      const body = await readRest(original, pendingRead, reader, plan.holdBytes - inputBytes).catch(() => undefined);
      if (body) {
        plan.logger.warn({ err: error, service: plan.service, operation: plan.operation }, 'masking failed; the answer passes unmasked (masking.failure: open)');
        response.writeHead(upstream.statusCode, { ...headers, 'content-length': String(body.length) });
        response.end(body);
        return { bytesOut: body.length, masked: [] };
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
  response.writeHead(upstream.statusCode, unchanged ? { ...headers, 'content-length': String(body.length) } : headersForHeldBody(headers, body));
  response.end(body);
  return { bytesOut, masked };
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

async function needsMasking(plan: AnswerPlan, contentType: string): Promise<boolean> {
  const key = `${plan.profile}\u0000${plan.service}\u0000${plan.operation}\u0000${contentType}`;
  const cached = planCache.get(key);
  if (cached !== undefined) return cached;
  const answer = await plan.masking.plan(
    { profile: plan.profile, service: plan.service, operation: plan.operation, contentType },
    { signal: plan.signal },
  );
  if (planCache.size > 10_000) planCache.clear();
  planCache.set(key, answer.transform);
  return answer.transform;
}

function headerString(value: string | string[] | undefined): string {
  return (Array.isArray(value) ? value[0] : value) ?? '';
}
