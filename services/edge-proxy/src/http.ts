import type { IncomingHttpHeaders, IncomingMessage, ServerResponse } from 'node:http';
import { AirlockError } from '@airlock/errors';

/** Headers that describe one hop, never forwarded (RFC 9110 §7.6.1), plus ones the proxy rewrites itself. */
const hopByHop = new Set(['connection', 'keep-alive', 'proxy-connection', 'transfer-encoding', 'te', 'trailer', 'upgrade', 'proxy-authorization', 'proxy-authenticate']);

export function isHopByHop(name: string): boolean {
  return hopByHop.has(name);
}

export function splitTarget(target: string | undefined): { rawPath: string; rawQuery: string } {
  const value = target ?? '/';
  const mark = value.indexOf('?');
  return mark === -1 ? { rawPath: value, rawQuery: '' } : { rawPath: value.slice(0, mark), rawQuery: value.slice(mark + 1) };
}

export function decodePath(rawPath: string): string {
  try {
    return decodeURIComponent(rawPath);
  } catch {
    throw new AirlockError('InvalidRequest', 'The request path is not valid percent-encoding.');
  }
}

export function firstHeader(headers: IncomingHttpHeaders | Record<string, string | string[] | undefined>, name: string): string | undefined {
  const value = headers[name];
  return Array.isArray(value) ? value[0] : value;
}

/** Reads a small body whole, refusing more than `limit` bytes without reading them. */
export async function readBounded(request: IncomingMessage, limit: number): Promise<Buffer> {
  const declared = Number(firstHeader(request.headers, 'content-length') ?? '0');
  if (declared > limit) throw new AirlockError('InvalidRequest', `The request body exceeds ${limit} bytes.`);
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of request as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > limit) throw new AirlockError('InvalidRequest', `The request body exceeds ${limit} bytes.`);
    chunks.push(chunk);
  }
  return Buffer.concat(chunks);
}

export function sendText(response: ServerResponse, status: number, headers: Record<string, string>, body: string): void {
  if (response.headersSent) {
    response.destroy();
    return;
  }
  response.writeHead(status, { ...headers, 'content-length': Buffer.byteLength(body) });
  response.end(body);
}
