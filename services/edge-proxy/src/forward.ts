import { Agent as HttpAgent, request as httpRequest, type IncomingHttpHeaders } from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';
import { pipeline, type Readable } from 'node:stream';
import type { AwsCredentials } from '@airlock/contracts';
import type { UpstreamTarget } from '@airlock/aws-protocol';
import { toAirlockError } from '@airlock/errors';
import { isClientAuthQueryParameter, parseRawQuery, resign, type ChunkSigningContext } from '@airlock/sigv4';
import { isHopByHop } from './http.js';

// Client headers that belong to the client's own signature or to this hop; Airlock sets its own. `expect` is this
// hop's business: the edge answered the client's 100-continue itself, and the upstream gets the body straight away.
const replacedHeaders = new Set(['host', 'authorization', 'x-amz-date', 'x-amz-security-token', 'expect', 'content-length']);

/**
 * The body to send: bytes, a stream, or (signed chunks) a stream made once the forwarded request is signed, because
 * every chunk is re-signed in a chain seeded by that signature.
 */
export type UpstreamBody = Buffer | Readable | ((signing: ChunkSigningContext) => Readable) | undefined;

export interface UpstreamRequest {
  method: string;
  rawPath: string;
  rawQuery: string;
  headers: IncomingHttpHeaders;
  body: UpstreamBody;
  contentLength: number | undefined;
  payloadHash: string;
  service: string;
  target: UpstreamTarget;
  credentials: AwsCredentials;
  signal: AbortSignal;
}

export interface UpstreamResponse {
  statusCode: number;
  headers: IncomingHttpHeaders;
  body: Readable;
}

export interface UpstreamAgents {
  http: HttpAgent;
  https: HttpsAgent;
  close(): void;
}

/**
 * Kept-alive connections to upstreams. Node's own HTTP client is used because it tolerates an upstream that closes
 * the connection while the client is applying backpressure, which some HTTP/1.1 servers do after every answer.
 */
export function createUpstreamAgents(): UpstreamAgents {
  const options = { keepAlive: true, maxSockets: 256, maxFreeSockets: 64, scheduling: 'lifo' as const };
  const http = new HttpAgent(options);
  const https = new HttpsAgent(options);
  return {
    http,
    https,
    close() {
      http.destroy();
      https.destroy();
    },
  };
}

/** Re-signs the call with vended credentials for the endpoint Airlock derived, and sends it, streaming the body. */
export async function forward(call: UpstreamRequest, agents: UpstreamAgents): Promise<UpstreamResponse> {
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(call.headers)) {
    if (value === undefined || replacedHeaders.has(name) || isHopByHop(name)) continue;
    headers[name] = Array.isArray(value) ? value.join(',') : value;
  }
  // A request without a body carries no Content-Length, so none may be signed either.
  if (call.body !== undefined && call.contentLength !== undefined) headers['content-length'] = String(call.contentLength);
  const { url } = call.target;
  const secure = url.protocol !== 'http:';
  const basePath = url.pathname.replace(/\/$/, '');
  // A presigned URL's own authentication stays behind: the forwarded request carries Airlock's header signature.
  const rawQuery = withoutClientAuth(call.rawQuery);
  const signed = await resign(
    {
      method: call.method,
      protocol: secure ? 'https:' : 'http:',
      hostname: url.hostname,
      ...(url.port ? { port: Number(url.port) } : {}),
      path: `${basePath}${call.rawPath}`,
      query: parseRawQuery(rawQuery),
      headers,
    },
    {
      accessKeyId: call.credentials.accessKeyId,
      secretAccessKey: call.credentials.secretAccessKey,
      sessionToken: call.credentials.sessionToken,
    },
    { region: call.target.signingRegion, service: call.service, payloadHash: call.payloadHash },
  );
  const body = typeof call.body === 'function' ? call.body(signed.signing) : call.body;
  const send = secure ? httpsRequest : httpRequest;
  return new Promise<UpstreamResponse>((resolve, reject) => {
    const fail = (error: unknown) => reject(toAirlockError(error, 'UpstreamUnreachable', `The AWS endpoint ${url.host} could not be reached.`));
    const outgoing = send(
      {
        agent: secure ? agents.https : agents.http,
        protocol: secure ? 'https:' : 'http:',
        hostname: url.hostname,
        port: url.port || (secure ? 443 : 80),
        method: call.method,
        path: `${basePath}${call.rawPath}${rawQuery ? `?${rawQuery}` : ''}`,
        headers: signed.headers,
        signal: call.signal,
      },
      (incoming) => resolve({ statusCode: incoming.statusCode ?? 502, headers: incoming.headers, body: incoming }),
    );
    outgoing.on('error', fail);
    if (body === undefined) outgoing.end();
    else if (Buffer.isBuffer(body)) outgoing.end(body);
    else pipeline(body, outgoing, (error) => error && fail(error));
  });
}

/**
 * Reads a byte range of the object a GET named again, from the same endpoint with the same credentials: the same
 * request with its Range replaced, pinned by If-Match to the object version already answered, and without
 * `partNumber` (S3 refuses it together with a Range).
 */
export function refetcher(call: UpstreamRequest, agents: UpstreamAgents): (range: string, etag: string) => Promise<UpstreamResponse> {
  const rawQuery = withoutQueryParameters(call.rawQuery, (name) => name === 'partNumber');
  return (range, etag) => forward({ ...call, rawQuery, headers: { ...call.headers, range, 'if-match': etag }, body: undefined, contentLength: undefined }, agents);
}

/** The raw query less the X-Amz-* parameters of query-string authentication, every other pair exactly as sent. */
export function withoutClientAuth(rawQuery: string): string {
  return withoutQueryParameters(rawQuery, isClientAuthQueryParameter);
}

function withoutQueryParameters(rawQuery: string, drop: (name: string) => boolean): string {
  if (rawQuery === '') return rawQuery;
  return rawQuery
    .split('&')
    .filter((pair) => {
      const equals = pair.indexOf('=');
      const name = equals === -1 ? pair : pair.slice(0, equals);
      try {
        return !drop(decodeURIComponent(name));
      } catch {
        return true;
      }
    })
    .join('&');
}
