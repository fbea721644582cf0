import type { IncomingMessage, ServerResponse } from 'node:http';
import { AirlockError } from '@airlock/errors';

/** Headers every console answer carries: nothing is framed, sniffed or leaks its URL (the callback's code) as a referrer. */
export const baseHeaders: Readonly<Record<string, string>> = {
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
  'x-frame-options': 'DENY',
  'cross-origin-opener-policy': 'same-origin',
};

const jsonBodyLimit = 16 * 1024;

export function sendJson(response: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  const text = `${JSON.stringify(body)}\n`;
  response.writeHead(status, {
    ...baseHeaders,
    ...headers,
    'content-type': 'application/json; charset=utf-8',
    'cache-control': 'no-store',
    'content-length': String(Buffer.byteLength(text)),
  });
  response.end(text);
}

export function redirect(response: ServerResponse, location: string, headers: Record<string, string | string[]> = {}): void {
  response.writeHead(303, { ...baseHeaders, ...headers, location, 'cache-control': 'no-store' });
  response.end();
}

/** A JSON object body of at most 16 KiB; an empty body is `{}`. */
export async function readJsonObject(request: IncomingMessage): Promise<Record<string, unknown>> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of request as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > jsonBodyLimit) throw new AirlockError('InvalidRequest', `The body is larger than ${jsonBodyLimit} bytes.`);
    chunks.push(chunk);
  }
  const raw = Buffer.concat(chunks).toString('utf8');
  if (raw.trim() === '') return {};
  let body: unknown;
  try {
    body = JSON.parse(raw);
  } catch {
    throw new AirlockError('InvalidRequest', 'The body is not valid JSON.');
  }
  if (typeof body !== 'object' || body === null || Array.isArray(body)) throw new AirlockError('InvalidRequest', 'The body must be a JSON object.');
  return body as Record<string, unknown>;
}
