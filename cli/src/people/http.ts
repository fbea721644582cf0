import { Failure, networkReason } from './errors.js';

export type Fetch = typeof fetch;

const TIMEOUT_MS = 30_000;

/** fetch with a deadline, whose network failure reads "cannot reach <what> at <origin>: ECONNREFUSED". */
export async function send(fetchImpl: Fetch, url: string, init: RequestInit, what: string): Promise<Response> {
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
export async function jsonBody(response: Response): Promise<unknown> {
  const text = await response.text();
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
