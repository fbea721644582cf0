import { once } from 'node:events';
import type { ServerResponse } from 'node:http';
import { pipeline } from 'node:stream/promises';
import { Transform } from 'node:stream';
import type { MaskedValue, MaskingServiceService, MaskRequest } from '@airlock/contracts';
import type { ServiceClient } from '@airlock/transport';
import type { UpstreamResponse } from './forward.js';
import { isHopByHop } from './http.js';

// Headers that describe the exact upstream bytes; they are wrong once masking changes the body. (An S3 ETag names
// the stored object, not these bytes, and SDKs need it, e.g. to complete multipart uploads.)
const bodyBoundHeaders = new Set(['content-length', 'content-md5', 'x-amz-crc32']);

export interface AnswerPlan {
  masking: ServiceClient<typeof MaskingServiceService>;
  profile: string;
  service: string;
  operation: string;
  method: string;
  signal: AbortSignal;
}

export interface AnswerResult {
  bytesOut: number;
  masked: MaskedValue[];
}

const planCache = new Map<string, boolean>();

/**
 * Streams the upstream answer to the client. Bodies that may hold secrets go through the masking stream; binary
 * bodies and HEAD answers go straight through. Plans are pure functions of their inputs, so they are cached.
 */
export async function sendAnswer(upstream: UpstreamResponse, response: ServerResponse, plan: AnswerPlan): Promise<AnswerResult> {
  const contentType = headerString(upstream.headers['content-type']);
  const transform = plan.method !== 'HEAD' && (await needsMasking(plan, contentType));
  const headers: Record<string, string | string[]> = {};
  for (const [name, value] of Object.entries(upstream.headers)) {
    if (value === undefined || isHopByHop(name)) continue;
    if (transform && (bodyBoundHeaders.has(name) || name.startsWith('x-amz-checksum-'))) continue;
    headers[name] = value;
  }
  response.writeHead(upstream.statusCode, headers);
  if (!transform) {
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
  let bytesOut = 0;
  let masked: MaskedValue[] = [];
  const requests = async function* (): AsyncIterable<MaskRequest> {
    yield { part: { $case: 'header', value: { profile: plan.profile, service: plan.service, operation: plan.operation, contentType } } };
    for await (const chunk of upstream.body as AsyncIterable<Buffer>) yield { part: { $case: 'data', value: chunk } };
  };
  for await (const output of plan.masking.mask(requests(), { signal: plan.signal })) {
    if (output.data.length > 0) {
      bytesOut += output.data.length;
      if (!response.write(output.data)) await once(response, 'drain');
    }
    if (output.masked.length > 0) masked = output.masked;
  }
  response.end();
  return { bytesOut, masked };
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
