import type { IncomingMessage } from 'node:http';
import { Failure, networkReason } from './errors.js';

/** What the people commands send: fetch's request options, narrowed to what they use. */
export interface HttpRequest {
  method?: string;
  headers?: Record<string, string>;
  body?: string;
  signal?: AbortSignal;
}

/** What they read of an answer: a subset of fetch's Response. */
export interface HttpAnswer {
  ok: boolean;
  status: number;
  text(): Promise<string>;
}

/** fetch's shape, narrowed: the commands use httpFetch, tests may pass any fetch-like function. */
export type Fetch = (url: string, init: HttpRequest) => Promise<HttpAnswer>;

/**
 * One HTTP exchange over node:http(s). Not the global fetch: its first call loads undici, which takes about as long
 * as the rest of a people command's start-up. Like fetch, it trusts Node's CA store (and NODE_EXTRA_CA_CERTS); unlike
 * fetch it follows no redirect, so a bearer token or a web identity token never travels on to a host it was not sent to.
 * node:https is loaded only for an https URL (TLS takes a while to load), and neither when no request is made at all,
 * as for `airlock credentials` answered from its cache.
 */
export const httpFetch: Fetch = async (url, init) => {
  const target = new URL(url);
  const { request: open } = target.protocol === 'https:' ? await import('node:https') : await import('node:http');
  return new Promise((resolve, reject) => {
    const request = open(
      target,
      { method: init.method ?? 'GET', headers: init.headers, signal: init.signal },
      (response: IncomingMessage) => {
        const chunks: Buffer[] = [];
        response.on('data', (chunk: Buffer) => chunks.push(chunk));
        response.once('error', reject);
        response.once('end', () => {
          const status = response.statusCode ?? 0;
          const text = Buffer.concat(chunks).toString('utf8');
          resolve({ ok: status >= 200 && status < 300, status, text: async () => text });
        });
      },
    );
    request.once('error', reject);
    request.end(init.body);
  });
};

const TIMEOUT_MS = 30_000;

/** An HTTP exchange with a deadline, whose network failure reads "cannot reach <what> at <origin>: ECONNREFUSED". */
export async function send(fetchImpl: Fetch, url: string, init: HttpRequest, what: string): Promise<HttpAnswer> {
  try {
    return await fetchImpl(url, { ...init, signal: AbortSignal.timeout(TIMEOUT_MS) });
  } catch (error) {
    throw new Failure(`cannot reach ${what} at ${originOf(url)}: ${networkReason(error)}`);
  }
}

export function originOf(url: string): string {
  try {
    return new URL(url).origin;
  } catch {
    return url;
  }
}

/** Reads a body as JSON; undefined when it is not JSON. */
export async function jsonBody(response: HttpAnswer): Promise<unknown> {
  return parseJson(await response.text());
}

/** Text as JSON; undefined when it is not JSON. */
export function parseJson(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}

export function isRecord(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

/** Joins a base URL and an absolute path, whatever the base's trailing slash. */
export function joinUrl(base: string, path: string): string {
  return `${base.replace(/\/+$/, '')}${path}`;
}
