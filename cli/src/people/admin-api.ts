import { Failure } from './errors.js';
import { httpFetch, isRecord, parseJson, send, type Fetch } from './http.js';
import { xmlField } from './xml-fields.js';

/** `GET /_airlock/api/v1/whoami`: who Airlock sees behind a token. */
export interface WhoAmI {
  subject: string;
  issuer: string;
  name?: string | null;
  email?: string | null;
  groups: string[];
  admin: boolean;
}

export interface SessionSummary {
  sessionId: string;
  subject: string;
  issuer: string;
  name?: string | null;
  groups?: string[];
  roleArn: string;
  issuedAt: string | number;
  expiresAt: string | number;
  revoked: boolean;
}

const API = '/_airlock/api/v1';

export type AdminCall = (method: 'GET' | 'POST', path: string, body?: unknown) => Promise<Record<string, unknown>>;

/**
 * One JSON call to the edge's admin API with the person's token as a bearer token; refusals become one-line
 * failures, and an edge without the API (which answers in AWS's XML error format) is named as such.
 */
export function adminCall(endpoint: string, token: string, fetchImpl: Fetch = httpFetch): AdminCall {
  return async (method, path, body) => {
    const response = await send(
      fetchImpl,
      `${endpoint}${API}${path}`,
      {
        method,
        headers: {
          authorization: `Bearer ${token}`,
          accept: 'application/json',
          ...(body === undefined ? {} : { 'content-type': 'application/json' }),
        },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      },
      'Airlock',
    );
    const text = await response.text();
    const answer = parseJson(text);
    if (response.ok && isRecord(answer)) return answer;
    if (isRecord(answer) && typeof answer.message === 'string') {
      throw new Failure(`Airlock refused: ${typeof answer.code === 'string' ? `${answer.code}: ` : ''}${answer.message}`);
    }
    const code = xmlField(text, 'Code');
    throw new Failure(`Airlock at ${endpoint} answered ${method} ${API}${path} with HTTP ${response.status}${code ? ` (${code})` : ''}; does this edge serve the API?`);
  };
}

/** A client of the edge's people and admin API. */
export function adminApi(endpoint: string, token: string, fetchImpl: Fetch = httpFetch) {
  const call = adminCall(endpoint, token, fetchImpl);

  return {
    async whoami(): Promise<WhoAmI> {
      return (await call('GET', '/whoami')) as unknown as WhoAmI;
    },
    async listSessions(filter: { subject?: string; issuer?: string }): Promise<SessionSummary[]> {
      const query = new URLSearchParams();
      if (filter.subject) query.set('subject', filter.subject);
      if (filter.issuer) query.set('issuer', filter.issuer);
      const answer = await call('GET', `/sessions${query.size > 0 ? `?${query}` : ''}`);
      if (!Array.isArray(answer.sessions)) throw new Failure('Airlock answered the session list without a sessions array');
      return answer.sessions as SessionSummary[];
    },
    async revokeSession(sessionId: string): Promise<string[]> {
      return revokedIds(await call('POST', `/sessions/${encodeURIComponent(sessionId)}/revoke`));
    },
    async revokeSubject(subject: string, issuer?: string): Promise<string[]> {
      return revokedIds(await call('POST', '/sessions/revoke', issuer ? { subject, issuer } : { subject }));
    },
  };
}

function revokedIds(answer: Record<string, unknown>): string[] {
  return Array.isArray(answer.revoked) ? answer.revoked.map(String) : [];
}
