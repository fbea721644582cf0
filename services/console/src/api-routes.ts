import type { IncomingMessage, ServerResponse } from 'node:http';
import { ListSessionsRequest, type RecorderServiceService } from '@airlock/contracts';
import { AirlockError, toAirlockError } from '@airlock/errors';
import type { Logger } from '@airlock/logging';
import type { ServiceClient } from '@airlock/transport';
import type { ApprovalFeed } from './approval-feed.js';
import type { EdgeAdminApi } from './edge-admin.js';
import { readJsonObject, sendJson } from './http.js';
import { streamApprovals } from './approval-stream.js';
import type { PersonSessions } from './person-session.js';
import type { SignedIn } from './sign-ins.js';
import { toTimeline } from './timeline.js';
import { recordingFilters, type MeResponse, type Person, type PolicyResponse, type RecordingResponse, type RecordingsResponse, type VerificationResponse } from './views.js';

export type RecorderQueries = Pick<ServiceClient<typeof RecorderServiceService>, 'listSessions' | 'getSession' | 'verifySession'>;

export interface ApiRoutesContext {
  sessions: PersonSessions;
  edge: EdgeAdminApi;
  recorder: RecorderQueries;
  feed: ApprovalFeed;
  policy: () => Promise<PolicyResponse>;
  logger: Logger;
}

const idPattern = /^[\w.-]{1,128}$/;
const defaultRecordingsLimit = 200;

/**
 * The console's JSON API for its page. Approvals and live sessions go to the edge's admin API with the person's own
 * token (the edge decides what they may see and do); recordings come from the recorder's query contract, for members
 * of admin.groups only (the edge's whoami says who is one); the policy text comes from the policy files.
 */
export async function handleApi(request: IncomingMessage, response: ServerResponse, url: URL, context: ApiRoutesContext): Promise<void> {
  const { sessions, edge } = context;
  const route = url.pathname.slice('/api/'.length).split('/').map(decodeSegment);
  const method = request.method ?? 'GET';
  const get = method === 'GET' || method === 'HEAD';
  const [first, second, third] = route;

  if (get && route.length === 1 && first === 'me') {
    const signedIn = sessions.require(request);
    const answer: MeResponse = { person: signedIn.person, csrfToken: signedIn.csrfToken, signedInUntil: new Date(signedIn.endsAtMs).toISOString() };
    return sendJson(response, 200, answer);
  }
  if (first === 'approvals') {
    if (get && route.length === 2 && second === 'stream') {
      const signedIn = sessions.require(request);
      return streamApprovals(request, response, { feed: context.feed, fetch: () => asPerson(signedIn, 'GET', 'approvals?limit=100'), logger: context.logger });
    }
    if (get && route.length === 1) {
      const signedIn = sessions.require(request);
      return sendJson(response, 200, await asPerson(signedIn, 'GET', `approvals?${passQuery(url, ['status', 'limit'])}`));
    }
    if (get && route.length === 2) return sendJson(response, 200, await asPerson(sessions.require(request), 'GET', `approvals/${pathId(second)}`));
    if (method === 'POST' && route.length === 3 && (third === 'approve' || third === 'deny')) {
      const signedIn = sessions.requireForChange(request);
      const { reason } = await readJsonObject(request);
      const body = typeof reason === 'string' && reason.trim() !== '' ? { reason: reason.trim() } : {};
      return sendJson(response, 200, await asPerson(signedIn, 'POST', `approvals/${pathId(second)}/${third}`, body));
    }
  }
  if (first === 'sessions') {
    if (get && route.length === 1) return sendJson(response, 200, await asPerson(sessions.require(request), 'GET', `sessions?${passQuery(url, ['subject', 'issuer'])}`));
    if (method === 'POST' && route.length === 2 && second === 'revoke') {
      const signedIn = sessions.requireForChange(request);
      const { subject, issuer } = await readJsonObject(request);
      return sendJson(response, 200, await asPerson(signedIn, 'POST', 'sessions/revoke', { subject, issuer }));
    }
    if (method === 'POST' && route.length === 3 && third === 'revoke') {
      return sendJson(response, 200, await asPerson(sessions.requireForChange(request), 'POST', `sessions/${pathId(second)}/revoke`));
    }
  }
  if (first === 'recordings' && get) {
    const signedIn = sessions.require(request);
    await requireAdmin(signedIn, 'read recorded sessions');
    if (route.length === 1) {
      const { sessions: recorded } = await recorderCall(() => context.recorder.listSessions(recordingSearch(url)));
      const answer: RecordingsResponse = {
        recordings: recorded.map((session) => ({
          sessionId: session.sessionId,
          subject: session.subject,
          name: session.name,
          roleArn: session.roleArn,
          firstAt: session.firstAtMs ? new Date(session.firstAtMs).toISOString() : null,
          lastAt: session.lastAtMs ? new Date(session.lastAtMs).toISOString() : null,
          calls: session.calls,
          events: session.events,
          operations: session.operations,
          decisions: session.decisions,
        })),
      };
      return sendJson(response, 200, answer);
    }
    const sessionId = pathId(second);
    if (route.length === 2) {
      const { events } = await recorderCall(() => context.recorder.getSession({ sessionId }));
      if (events.length === 0) throw new AirlockError('NotFound', `No recording of session ${sessionId}.`);
      const answer: RecordingResponse = { sessionId, timeline: toTimeline(events) };
      return sendJson(response, 200, answer);
    }
    if (route.length === 3 && third === 'verify') {
      const report = await recorderCall(() => context.recorder.verifySession({ sessionId }));
      const answer: VerificationResponse = {
        sessionId: report.sessionId,
        ok: report.ok,
        signed: report.signed,
        objects: report.objects,
        events: report.events,
        problems: report.problems.map(({ kind, key, line, message }) => ({ kind, key, line, message })),
      };
      return sendJson(response, 200, answer);
    }
  }
  if (get && route.length === 1 && first === 'policy') {
    sessions.require(request);
    return sendJson(response, 200, await context.policy());
  }
  throw new AirlockError('NotFound', `No console API route ${method} ${url.pathname.slice(0, 200)}.`);

  async function asPerson(signedIn: SignedIn, verb: 'GET' | 'POST', path: string, body?: unknown): Promise<unknown> {
    return edge.call(await sessions.token(signedIn), verb, path, body);
  }

  /** Asks the edge afresh, so a person removed from admin.groups loses access at once, not at their next sign-in. */
  async function requireAdmin(signedIn: SignedIn, what: string): Promise<void> {
    signedIn.person = await edge.call<Person>(await sessions.token(signedIn), 'GET', 'whoami');
    if (!signedIn.person.admin) {
      throw new AirlockError('AccessDenied', `Only members of an admin group (admin.groups) may ${what}; ${signedIn.person.subject} is not one.`);
    }
  }
}

/** The recorder's refusals keep their code (NotFound, InvalidRequest); an unreachable recorder is a retryable outage. */
async function recorderCall<T>(call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (error) {
    throw toAirlockError(error, 'DependencyUnavailable', 'The recorder cannot answer right now; try again.');
  }
}

/** `?since=&until=` (ISO 8601; default: the recorder's, the last 24 hours), the filters, and `limit`. */
function recordingSearch(url: URL): ListSessionsRequest {
  const time = (name: string): number => {
    const value = url.searchParams.get(name);
    if (!value) return 0;
    const ms = Date.parse(value);
    if (Number.isNaN(ms)) throw new AirlockError('InvalidRequest', `"${name}" must be a date and time (ISO 8601).`);
    return ms;
  };
  const limit = Number(url.searchParams.get('limit') ?? defaultRecordingsLimit);
  const filters = Object.fromEntries(recordingFilters.map((name) => [name, (url.searchParams.get(name) ?? '').trim().slice(0, 1024)]));
  return {
    // Defaults for every field, including any the contract gains later.
    ...ListSessionsRequest.fromJSON({}),
    ...filters,
    sinceMs: time('since'),
    untilMs: time('until'),
    limit: Number.isInteger(limit) && limit > 0 ? Math.min(limit, 1000) : defaultRecordingsLimit,
  };
}

function passQuery(url: URL, names: readonly string[]): string {
  const query = new URLSearchParams();
  for (const name of names) {
    const value = url.searchParams.get(name);
    if (value) query.set(name, value);
  }
  return query.toString();
}

function pathId(segment: string | undefined): string {
  if (!segment || !idPattern.test(segment)) throw new AirlockError('InvalidRequest', 'The id in the path is not valid.');
  // The pattern leaves nothing that needs encoding in a path.
  return segment;
}

function decodeSegment(segment: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    throw new AirlockError('InvalidRequest', 'The request path is not valid percent-encoding.');
  }
}
