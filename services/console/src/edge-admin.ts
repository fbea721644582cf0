import { AirlockError, toAirlockError } from '@airlock/errors';

const adminPrefix = '/_airlock/api/v1/';
const timeoutMs = 10_000;

/**
 * The edge's admin API (docs/admin-api.md), called as the signed-in person: every request carries that person's own
 * token, so the edge applies exactly the rules it applies to `airlock sessions` and `airlock approvals`. The console
 * holds no identity of its own to call with.
 */
export class EdgeAdminApi {
  constructor(private readonly edgeUrl: string) {}

  /** The answer's JSON on success; otherwise the edge's error code and message as an AirlockError. */
  async call<T>(token: string, method: 'GET' | 'POST', path: string, body?: unknown): Promise<T> {
    const headers: Record<string, string> = { authorization: `Bearer ${token}`, accept: 'application/json' };
    if (body !== undefined) headers['content-type'] = 'application/json';
    let response: Response;
    try {
      response = await fetch(new URL(`${adminPrefix}${path}`, this.edgeUrl), {
        method,
        headers,
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
        signal: AbortSignal.timeout(timeoutMs),
        redirect: 'error',
      });
    } catch (error) {
      throw new AirlockError('DependencyUnavailable', `The edge's admin API (${this.edgeUrl}) cannot be reached; try again.`, { cause: error });
    }
    let answer: unknown;
    try {
      answer = await response.json();
    } catch (error) {
      throw toAirlockError(error, 'DependencyUnavailable', `The edge's admin API answered HTTP ${response.status} without JSON.`);
    }
    if (response.ok) return answer as T;
    const { code, message } = (answer ?? {}) as { code?: unknown; message?: unknown };
    throw AirlockError.fromWire(
      typeof code === 'string' ? code : 'Internal',
      typeof message === 'string' ? message : `The edge's admin API answered HTTP ${response.status}.`,
    );
  }
}
