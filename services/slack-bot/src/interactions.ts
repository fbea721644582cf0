import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { ApprovalServiceService, Approval } from '@airlock/contracts';
import { AirlockError } from '@airlock/errors';
import type { Logger } from '@airlock/logging';
import type { ServiceClient } from '@airlock/transport';
import { describe } from './consumer.js';
import { resolveVoter, type IdentityMapping } from './identity.js';
import type { MessageLedger } from './ledger.js';
import { approveActionId, denyActionId, denyModal, denyModalCallbackId, reasonActionId, reasonBlockId } from './render.js';
import { verifySlackRequest } from './signature.js';
import type { SlackApi } from './slack-api.js';

/** Where Slack's Interactivity Request URL must point. */
export const interactionsPath = '/slack/interactions';
const maxBodyBytes = 1024 * 1024;

export interface InteractionOptions {
  signingSecret: string;
  slack: SlackApi;
  approvals: ServiceClient<typeof ApprovalServiceService>;
  ledger: MessageLedger;
  mapping: IdentityMapping;
  logger: Logger;
  now: () => number;
  toleranceSeconds?: number;
}

export interface InteractionServer {
  readonly url: string;
  readonly port: number;
  close(): Promise<void>;
}

interface SlackUser {
  id: string;
  name?: string;
  username?: string;
}

interface BlockActionsPayload {
  type: 'block_actions';
  user: SlackUser;
  trigger_id?: string;
  response_url?: string;
  actions?: { action_id?: string; value?: string }[];
}

interface ViewSubmissionPayload {
  type: 'view_submission';
  user: SlackUser;
  view: {
    callback_id?: string;
    private_metadata?: string;
    state?: { values?: Record<string, Record<string, { value?: string | null }>> };
  };
}

/**
 * Slack's interactivity endpoint. Every request is verified (signature and timestamp) before anything else is read;
 * button clicks are acknowledged at once (Slack waits three seconds) and handled after, answering the clicker through
 * response_url; a deny modal's submission is answered in the response, with errors shown on the modal itself.
 */
export async function startInteractionServer(listen: string, options: InteractionOptions): Promise<InteractionServer> {
  const pending = new Set<Promise<void>>();
  const track = (work: Promise<void>) => {
    pending.add(work);
    void work.finally(() => pending.delete(work));
  };
  const server: Server = createServer((request, response) => {
    handleRequest(request, response, options, track).catch((error: unknown) => {
      options.logger.error({ error: describe(error) }, 'slack interaction failed');
      if (!response.headersSent) reply(response, 500, 'internal error');
      else response.end();
    });
  });
  const { host, port } = splitHostPort(listen);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const bound = (server.address() as AddressInfo).port;
  const urlHost = host.includes(':') ? `[${host}]` : host;
  return {
    url: `http://${urlHost}:${bound}${interactionsPath}`,
    port: bound,
    async close() {
      await new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeAllConnections();
      await Promise.allSettled([...pending]);
    },
  };
}

async function handleRequest(
  request: IncomingMessage,
  response: ServerResponse,
  options: InteractionOptions,
  track: (work: Promise<void>) => void,
): Promise<void> {
  const path = (request.url ?? '').split('?')[0];
  if (path === '/healthz' && request.method === 'GET') return reply(response, 200, 'ok');
  if (path !== interactionsPath) return reply(response, 404, 'not found');
  if (request.method !== 'POST') return reply(response, 405, 'method not allowed');
  const rawBody = await readBody(request);
  if (rawBody === undefined) return reply(response, 413, 'payload too large');
  const verified = verifySlackRequest(
    options.signingSecret,
    { timestamp: header(request, 'x-slack-request-timestamp'), signature: header(request, 'x-slack-signature'), rawBody },
    options.now(),
    options.toleranceSeconds,
  );
  if (!verified) {
    options.logger.warn({ remote: request.socket.remoteAddress }, 'slack interaction refused: bad signature or stale timestamp');
    return reply(response, 401, 'invalid signature');
  }
  const payload = parsePayload(request, rawBody);
  if (!payload) return reply(response, 400, 'expected application/x-www-form-urlencoded payload=<json>');

  if (payload.type === 'view_submission') {
    const submission = payload as unknown as ViewSubmissionPayload;
    if (submission.view?.callback_id !== denyModalCallbackId) return reply(response, 200, '');
    const errors = await submitDenial(submission, options, track);
    if (errors) return replyJson(response, { response_action: 'errors', errors: { [reasonBlockId]: errors } });
    return reply(response, 200, '');
  }
  if (payload.type === 'block_actions') {
    const clicked = payload as unknown as BlockActionsPayload;
    const action = clicked.actions?.find((candidate) => candidate.action_id === approveActionId || candidate.action_id === denyActionId);
    reply(response, 200, '');
    if (action?.value && clicked.user?.id) track(handleClick(clicked, action.action_id!, action.value, options));
    return;
  }
  // Other interaction kinds (shortcuts, view_closed, …) are not ours: acknowledged and ignored.
  return reply(response, 200, '');
}

async function handleClick(payload: BlockActionsPayload, actionId: string, approvalId: string, options: InteractionOptions): Promise<void> {
  const { logger, slack } = options;
  const tell = async (text: string) => {
    if (!payload.response_url) return;
    try {
      await slack.respondEphemeral(payload.response_url, text);
    } catch (error) {
      logger.warn({ approvalId, error: describe(error) }, 'could not answer the slack user');
    }
  };
  try {
    const voter = await resolveVoter(options.mapping, payload.user.id, payload.user.name ?? payload.user.username, (id) => slack.userInfo(id));
    if (!voter) {
      logger.info({ approvalId, slackUser: payload.user.id }, 'slack vote refused: user not mapped to an Airlock identity');
      return tell(`You are not mapped to an Airlock identity, so you cannot vote on approvals. Ask an Airlock admin to map your Slack user (${payload.user.id}).`);
    }
    if (actionId === denyActionId) {
      if (!payload.trigger_id) return tell('Slack did not send what is needed to ask for a reason; please try again.');
      await slack.openView(payload.trigger_id, denyModal(approvalId));
      return;
    }
    const approval = await castVote(options, approvalId, voter, true, '');
    await tell(`You approved \`${approvalId}\`.`);
    await refresh(options, approval);
  } catch (error) {
    await tell(refusal(error));
    if (!(error instanceof AirlockError) || error.status >= 500) logger.warn({ approvalId, error: describe(error) }, 'slack vote failed');
  }
}

/** Undefined on success; otherwise what the modal shows under the reason field. */
async function submitDenial(
  payload: ViewSubmissionPayload,
  options: InteractionOptions,
  track: (work: Promise<void>) => void,
): Promise<string | undefined> {
  let approvalId: string | undefined;
  try {
    approvalId = (JSON.parse(payload.view.private_metadata ?? '{}') as { approvalId?: unknown }).approvalId as string | undefined;
  } catch {
    approvalId = undefined;
  }
  if (typeof approvalId !== 'string' || approvalId === '') return 'This form no longer names an approval.';
  const reason = payload.view.state?.values?.[reasonBlockId]?.[reasonActionId]?.value?.trim() ?? '';
  if (reason === '') return 'A denial needs a reason.';
  try {
    const voter = await resolveVoter(options.mapping, payload.user.id, payload.user.name ?? payload.user.username, (id) => options.slack.userInfo(id));
    if (!voter) return `You are not mapped to an Airlock identity (${payload.user.id}).`;
    const approval = await castVote(options, approvalId, voter, false, reason);
    // The modal closes with the response; the channel message follows without holding it up.
    track(refresh(options, approval));
    return undefined;
  } catch (error) {
    return refusal(error);
  }
}

async function castVote(
  options: InteractionOptions,
  approvalId: string,
  voter: NonNullable<Awaited<ReturnType<typeof resolveVoter>>>,
  approve: boolean,
  reason: string,
): Promise<Approval> {
  const { approval } = await options.approvals.vote({ approvalId, voter, approve, reason });
  if (!approval) throw new AirlockError('Internal', 'The approval service answered a vote without the approval.');
  options.logger.info({ approvalId, voter: `${voter.issuer}#${voter.subject}`, approve }, 'slack vote cast');
  return approval;
}

/** The message follows the vote at once; the approval event that follows brings it there too if this fails. */
async function refresh(options: InteractionOptions, approval: Approval): Promise<void> {
  try {
    await options.ledger.apply(approval, true);
  } catch (error) {
    options.logger.warn({ approvalId: approval.id, error: describe(error) }, 'updating the slack message after a vote failed');
  }
}

/** What the voter is told: an Airlock error's message is written for people; anything else is not shown. */
function refusal(error: unknown): string {
  if (error instanceof AirlockError && error.status < 500) return `Your vote was not counted: ${error.message}`;
  return 'Your vote could not be recorded right now; please try again in a moment.';
}

function parsePayload(request: IncomingMessage, rawBody: Buffer): { type?: string } | undefined {
  const type = header(request, 'content-type')?.split(';')[0]?.trim().toLowerCase();
  if (type !== 'application/x-www-form-urlencoded') return undefined;
  const json = new URLSearchParams(rawBody.toString('utf8')).get('payload');
  if (!json) return undefined;
  try {
    const value = JSON.parse(json) as unknown;
    return typeof value === 'object' && value !== null ? (value as { type?: string }) : undefined;
  } catch {
    return undefined;
  }
}

function header(request: IncomingMessage, name: string): string | undefined {
  const value = request.headers[name];
  return Array.isArray(value) ? value[0] : value;
}

async function readBody(request: IncomingMessage): Promise<Buffer | undefined> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of request) {
    size += (chunk as Buffer).length;
    if (size > maxBodyBytes) return undefined;
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks);
}

function reply(response: ServerResponse, status: number, text: string): void {
  response.writeHead(status, { 'content-type': 'text/plain; charset=utf-8', 'content-length': Buffer.byteLength(text) });
  response.end(text);
}

function replyJson(response: ServerResponse, body: unknown): void {
  const text = JSON.stringify(body);
  response.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
  response.end(text);
}

export function splitHostPort(listen: string): { host: string; port: number } {
  const match = /^\[?([^\]]*?)\]?:(\d{1,5})$/.exec(listen);
  if (!match) throw new AirlockError('InvalidConfiguration', `expected "host:port", got "${listen}"`);
  return { host: match[1]!, port: Number(match[2]) };
}
