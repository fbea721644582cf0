import type { IncomingMessage, ServerResponse } from 'node:http';
import { AirlockError, toAirlockError } from '@airlock/errors';
import type { VerifiedIdentity } from '@airlock/identity';
import { getApproval, listApprovals, voteOnApproval } from './admin-approvals.js';
import type { EdgeDependencies } from './dependencies.js';
import { firstHeader, readBounded, sendText } from './http.js';
import type { RevocationCheck } from './revocations.js';
import type { SessionRegistry, SessionView } from './session-registry.js';

/** Every admin route starts here; the contract is docs/admin-api.md. */
export const adminApiPrefix = '/_airlock/api/v1/';

export interface AdminApiContext {
  deps: EdgeDependencies;
  registry: SessionRegistry;
  revocations: RevocationCheck;
  assertHost(host: string | undefined): void;
}

/** `GET /_airlock/api/v1/whoami` */
export interface WhoamiResponse {
  subject: string;
  issuer: string;
  name: string | null;
  email: string | null;
  groups: string[];
  /** Member of one of `admin.groups`: may list and revoke anyone's sessions. */
  admin: boolean;
}

/** `GET /_airlock/api/v1/sessions` */
export interface SessionsResponse {
  sessions: SessionView[];
}

/** `POST /_airlock/api/v1/sessions/<id>/revoke` and `POST /_airlock/api/v1/sessions/revoke` */
export interface RevokeResponse {
  revoked: string[];
}

/** Any failure, with the HTTP status of its code. */
export interface AdminErrorResponse {
  code: string;
  message: string;
}

const bodyLimit = 16 * 1024;
const sessionIdPattern = /^[\w.-]{1,128}$/;
const maxNameLength = 1024;

interface Caller {
  identity: VerifiedIdentity;
  admin: boolean;
}

/**
 * The edge's admin API: JSON in and out, authenticated by an OIDC token (`Authorization: Bearer …`) from an issuer the
 * edge trusts. Members of `admin.groups` may list and revoke any session; anyone else only their own. Approvals are
 * listed, read and voted on through admin-approvals.ts; the approval service judges every vote.
 */
export async function handleAdminRequest(request: IncomingMessage, response: ServerResponse, rawPath: string, rawQuery: string, context: AdminApiContext): Promise<void> {
  const { deps } = context;
  try {
    context.assertHost(request.headers.host);
    const route = rawPath.slice(adminApiPrefix.length).split('/');
    const method = request.method ?? 'GET';
    if (route.length === 1 && route[0] === 'whoami') {
      allow(method, 'GET');
      const caller = await authenticate(request, context);
      sendJson(response, 200, whoami(caller));
      return;
    }
    if (route.length === 1 && route[0] === 'sessions') {
      allow(method, 'GET');
      const caller = await authenticate(request, context);
      sendJson(response, 200, await listSessions(caller, new URLSearchParams(rawQuery), context));
      return;
    }
    if (route.length === 2 && route[0] === 'sessions' && route[1] === 'revoke') {
      allow(method, 'POST');
      const caller = await authenticate(request, context);
      sendJson(response, 200, await revokeSubject(caller, await readJson(request), context));
      return;
    }
    if (route.length === 3 && route[0] === 'sessions' && route[2] === 'revoke') {
      allow(method, 'POST');
      const caller = await authenticate(request, context);
      sendJson(response, 200, await revokeSession(caller, decodeSegment(route[1] ?? ''), context));
      return;
    }
    if (route.length === 1 && route[0] === 'approvals') {
      allow(method, 'GET');
      const caller = await authenticate(request, context);
      sendJson(response, 200, await listApprovals(caller, new URLSearchParams(rawQuery), deps));
      return;
    }
    if (route.length === 2 && route[0] === 'approvals') {
      allow(method, 'GET');
      const caller = await authenticate(request, context);
      sendJson(response, 200, await getApproval(caller, decodeSegment(route[1] ?? ''), deps));
      return;
    }
    if (route.length === 3 && route[0] === 'approvals' && (route[2] === 'approve' || route[2] === 'deny')) {
      allow(method, 'POST');
      const caller = await authenticate(request, context);
      sendJson(response, 200, await voteOnApproval(caller, decodeSegment(route[1] ?? ''), route[2] === 'approve', await readJson(request), deps));
      return;
    }
    throw new AirlockError('NotFound', `No admin API route ${method} ${rawPath.slice(0, 200)}; see docs/admin-api.md.`);
  } catch (thrown) {
    const error = toAirlockError(thrown);
    if (error.code === 'Internal' || error.code === 'DependencyUnavailable') {
      deps.logger.warn({ code: error.code, err: error.cause ?? error, path: rawPath.slice(0, 200) }, error.message);
    }
    const headers: Record<string, string> = error.code === 'MissingAuthentication' ? { 'www-authenticate': 'Bearer' } : {};
    sendJson(response, error.status, { code: error.code, message: error.message } satisfies AdminErrorResponse, headers);
    if (!request.readableEnded) request.resume();
  }
}

async function authenticate(request: IncomingMessage, context: AdminApiContext): Promise<Caller> {
  const match = /^Bearer +([^\s]+) *$/i.exec(firstHeader(request.headers, 'authorization') ?? '');
  if (!match?.[1]) {
    throw new AirlockError('MissingAuthentication', 'The admin API needs an OIDC token from an issuer Airlock trusts, as "Authorization: Bearer <token>" (airlock login).');
  }
  const identity = await context.deps.tokens.verify(match[1], context.deps.now());
  const adminGroups = new Set(context.deps.settings.adminGroups);
  return { identity, admin: identity.groups.some((group) => adminGroups.has(group)) };
}

function whoami({ identity, admin }: Caller): WhoamiResponse {
  return { subject: identity.subject, issuer: identity.issuer, name: identity.name ?? null, email: identity.email ?? null, groups: identity.groups, admin };
}

async function listSessions(caller: Caller, query: URLSearchParams, context: AdminApiContext): Promise<SessionsResponse> {
  let subject = optionalName(query.get('subject'), 'subject');
  let issuer = optionalName(query.get('issuer'), 'issuer');
  if (!caller.admin) {
    // Anyone may list their own sessions, and only those.
    if ((subject !== undefined && subject !== caller.identity.subject) || (issuer !== undefined && issuer !== caller.identity.issuer)) {
      throw notAdmin(caller, 'list another principal\'s sessions');
    }
    subject = caller.identity.subject;
    issuer = caller.identity.issuer;
  }
  return { sessions: await context.registry.list({ subject, issuer }) };
}

async function revokeSession(caller: Caller, sessionId: string, context: AdminApiContext): Promise<RevokeResponse> {
  if (!sessionIdPattern.test(sessionId)) throw new AirlockError('InvalidRequest', 'The session id is not valid.');
  const record = await context.registry.get(sessionId);
  if (!record) throw new AirlockError('NotFound', `No live session ${sessionId}: it never existed or has expired.`);
  if (!caller.admin && !(record.subject === caller.identity.subject && record.issuer === caller.identity.issuer)) {
    throw notAdmin(caller, 'revoke another principal\'s session');
  }
  const written = await context.registry.revokeSession(record);
  context.revocations.remember(written.key, written.value);
  context.deps.logger.info(
    { sessionId, subject: record.subject, issuer: record.issuer, by: { subject: caller.identity.subject, issuer: caller.identity.issuer } },
    'session revoked',
  );
  return { revoked: [sessionId] };
}

async function revokeSubject(caller: Caller, body: Record<string, unknown>, context: AdminApiContext): Promise<RevokeResponse> {
  const subject = optionalName(body.subject, 'subject');
  if (subject === undefined) throw new AirlockError('InvalidRequest', 'The body must name the "subject" whose sessions to revoke, e.g. {"subject": "…", "issuer": "…"}.');
  const issuer = optionalName(body.issuer, 'issuer') ?? defaultIssuer(caller, context);
  if (!caller.admin && !(subject === caller.identity.subject && issuer === caller.identity.issuer)) {
    throw notAdmin(caller, 'revoke another principal\'s sessions');
  }
  const trusted = context.deps.settings.issuers;
  if (trusted.length > 0 && !trusted.includes(issuer)) {
    throw new AirlockError('InvalidRequest', `Issuer ${JSON.stringify(issuer.slice(0, 200))} is not one this Airlock trusts (identity.issuers).`);
  }
  const { written, sessionIds } = await context.registry.revokeSubject(issuer, subject);
  context.revocations.remember(written.key, written.value);
  context.deps.logger.info(
    { subject, issuer, sessionIds, revokedAtMs: Number(written.value), by: { subject: caller.identity.subject, issuer: caller.identity.issuer } },
    'subject revoked',
  );
  return { revoked: sessionIds };
}

/** Without an issuer: a caller's own, or the only one the edge trusts. */
function defaultIssuer(caller: Caller, context: AdminApiContext): string {
  if (!caller.admin) return caller.identity.issuer;
  const [only, ...others] = context.deps.settings.issuers;
  if (only !== undefined && others.length === 0) return only;
  throw new AirlockError('InvalidRequest', 'Name the "issuer" of the subject: this Airlock trusts several issuers.');
}

function notAdmin(caller: Caller, what: string): AirlockError {
  return new AirlockError('AccessDenied', `Only members of an admin group (admin.groups) may ${what}; ${caller.identity.subject} is not one.`);
}

function allow(method: string, expected: 'GET' | 'POST'): void {
  if (method !== expected) throw new AirlockError('InvalidRequest', `This admin API route takes ${expected} only.`);
}

function optionalName(value: unknown, field: string): string | undefined {
  if (value === undefined || value === null || value === '') return undefined;
  if (typeof value !== 'string' || value.length > maxNameLength) throw new AirlockError('InvalidRequest', `"${field}" must be a string of at most ${maxNameLength} characters.`);
  return value;
}

async function readJson(request: IncomingMessage): Promise<Record<string, unknown>> {
  const raw = (await readBounded(request, bodyLimit)).toString('utf8');
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

function decodeSegment(segment: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    throw new AirlockError('InvalidRequest', 'The request path is not valid percent-encoding.');
  }
}

function sendJson(response: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  sendText(response, status, { ...headers, 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store' }, `${JSON.stringify(body)}\n`);
}
