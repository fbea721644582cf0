import type { IncomingHttpHeaders } from 'node:http';
import type { Readable } from 'node:stream';
import { Agent, request, type Dispatcher } from 'undici';
import type { AwsCredentials } from '@airlock/contracts';
import type { UpstreamTarget } from '@airlock/aws-protocol';
import { toAirlockError } from '@airlock/errors';
import { parseRawQuery, resign } from '@airlock/sigv4';
import { isHopByHop } from './http.js';

// Client headers that belong to the client's own signature or to this hop; Airlock sets its own.
const replacedHeaders = new Set(['host', 'authorization', 'x-amz-date', 'x-amz-security-token', 'expect', 'content-length']);

export interface UpstreamRequest {
  method: string;
  rawPath: string;
  rawQuery: string;
  headers: IncomingHttpHeaders;
  body: Buffer | Readable | undefined;
  contentLength: number | undefined;
  payloadHash: string;
  service: string;
  target: UpstreamTarget;
  credentials: AwsCredentials;
  signal: AbortSignal;
}

export function createUpstreamDispatcher(): Dispatcher {
  return new Agent({ keepAliveTimeout: 30_000, connections: 256, headersTimeout: 300_000, bodyTimeout: 300_000 });
}

/** Re-signs the call with vended credentials for the endpoint Airlock derived, and sends it, streaming the body. */
export async function forward(call: UpstreamRequest, dispatcher: Dispatcher): Promise<Dispatcher.ResponseData> {
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(call.headers)) {
    if (value === undefined || replacedHeaders.has(name) || isHopByHop(name)) continue;
    headers[name] = Array.isArray(value) ? value.join(',') : value;
  }
  // undici sends no Content-Length for a request without a body, so signing one would break the signature upstream.
  if (call.body !== undefined && call.contentLength !== undefined) headers['content-length'] = String(call.contentLength);
  const { url } = call.target;
  const basePath = url.pathname.replace(/\/$/, '');
  const signed = await resign(
    {
      method: call.method,
      protocol: url.protocol === 'http:' ? 'http:' : 'https:',
      hostname: url.hostname,
      ...(url.port ? { port: Number(url.port) } : {}),
      path: `${basePath}${call.rawPath}`,
      query: parseRawQuery(call.rawQuery),
      headers,
    },
    {
      accessKeyId: call.credentials.accessKeyId,
      secretAccessKey: call.credentials.secretAccessKey,
      sessionToken: call.credentials.sessionToken,
    },
    { region: call.target.signingRegion, service: call.service, payloadHash: call.payloadHash },
  );
  const { host: _host, ...sendHeaders } = signed.headers;
  try {
    return await request(`${url.origin}${basePath}${call.rawPath}${call.rawQuery ? `?${call.rawQuery}` : ''}`, {
      method: call.method as Dispatcher.HttpMethod,
      headers: sendHeaders,
      body: call.body ?? null,
      signal: call.signal,
      dispatcher,
    });
  } catch (error) {
    throw toAirlockError(error, 'UpstreamUnreachable', `The AWS endpoint ${url.host} could not be reached.`);
  }
}
