import { randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { slackSignature } from '@airlock/slack-bot';

/**
 * A local stand-in of the parts of Slack the bot talks to: the Web API methods chat.postMessage, chat.update,
 * users.info and views.open (form- or JSON-encoded, answered in Slack's own JSON shape, `{ ok: false, error }` with
 * HTTP 200 for API errors), and response_url receivers. It checks the bot token on every API call, remembers
 * channels' messages so chat.update fails like Slack's for a message that does not exist, issues trigger ids that
 * views.open accepts only once and only within Slack's three seconds, and records every call for assertions.
 */

export interface StandinUser {
  id: string;
  name: string;
  real_name?: string;
  email?: string;
  is_bot?: boolean;
  deleted?: boolean;
}

export interface ApiCall {
  method: string;
  /** Arguments, with JSON-valued fields (blocks, view) decoded. */
  args: Record<string, unknown>;
  ok: boolean;
  error?: string;
}

export interface PostedMessage {
  channel: string;
  ts: string;
  text: string;
  blocks: unknown[];
  updates: number;
}

export interface SlackStandin {
  /** For @slack/web-api's `slackApiUrl`. */
  readonly apiUrl: string;
  readonly token: string;
  readonly calls: ApiCall[];
  /** JSON bodies posted to response_urls, by the id the URL names. */
  readonly responses: { id: string; body: Record<string, unknown> }[];
  /** Current messages, by channel id and ts. */
  readonly messages: Map<string, PostedMessage>;
  callsOf(method: string): ApiCall[];
  /** A response_url for one interaction. */
  responseUrl(id?: string): string;
  /** A trigger id as Slack puts it in an interaction payload: valid for three seconds, once. */
  triggerId(): string;
  /** The next `count` calls of `method` answer `{ ok: false, error }`. */
  failNext(method: string, error: string, count?: number): void;
  close(): Promise<void>;
}

export interface SlackStandinOptions {
  token: string;
  /** Channel ids the workspace has; names map to ids as `#name` → `C…`. */
  channels: Record<string, string>;
  users: StandinUser[];
}

const jsonFields = new Set(['blocks', 'attachments', 'view', 'metadata']);

export async function startSlackStandin(options: SlackStandinOptions): Promise<SlackStandin> {
  const calls: ApiCall[] = [];
  const responses: { id: string; body: Record<string, unknown> }[] = [];
  const messages = new Map<string, PostedMessage>();
  const triggers = new Map<string, number>();
  const failures = new Map<string, { error: string; count: number }>();
  let sequence = 0;
  const channelIds = new Set(Object.values(options.channels));
  const resolveChannel = (value: unknown): string | undefined => {
    if (typeof value !== 'string') return undefined;
    if (channelIds.has(value)) return value;
    return options.channels[value.replace(/^#/, '')];
  };

  const methods: Record<string, (args: Record<string, unknown>) => Record<string, unknown>> = {
    'chat.postMessage': (args) => {
      const channel = resolveChannel(args.channel);
      if (!channel) return { ok: false, error: 'channel_not_found' };
      if (typeof args.text !== 'string' && !Array.isArray(args.blocks)) return { ok: false, error: 'no_text' };
      const ts = `${Math.floor(Date.now() / 1000)}.${String(++sequence).padStart(6, '0')}`;
      const message = { channel, ts, text: String(args.text ?? ''), blocks: (args.blocks as unknown[]) ?? [], updates: 0 };
      messages.set(`${channel}/${ts}`, message);
      return { ok: true, channel, ts, message: { type: 'message', text: message.text, blocks: message.blocks, ts } };
    },
    'chat.update': (args) => {
      const channel = resolveChannel(args.channel);
      if (!channel) return { ok: false, error: 'channel_not_found' };
      const message = messages.get(`${channel}/${String(args.ts)}`);
      if (!message) return { ok: false, error: 'message_not_found' };
      message.text = String(args.text ?? message.text);
      if (Array.isArray(args.blocks)) message.blocks = args.blocks;
      message.updates++;
      return { ok: true, channel, ts: message.ts, text: message.text };
    },
    'users.info': (args) => {
      const user = options.users.find((candidate) => candidate.id === args.user);
      if (!user) return { ok: false, error: 'user_not_found' };
      return {
        ok: true,
        user: {
          id: user.id,
          name: user.name,
          real_name: user.real_name ?? user.name,
          deleted: user.deleted ?? false,
          is_bot: user.is_bot ?? false,
          is_email_confirmed: user.email !== undefined,
          profile: { real_name: user.real_name ?? user.name, display_name: user.name, ...(user.email ? { email: user.email } : {}) },
        },
      };
    },
    'views.open': (args) => {
      const trigger = String(args.trigger_id ?? '');
      const issued = triggers.get(trigger);
      if (issued === undefined || Date.now() - issued > 3_000) return { ok: false, error: 'expired_trigger_id' };
      triggers.delete(trigger);
      const view = args.view as Record<string, unknown> | undefined;
      if (!view || view.type !== 'modal') return { ok: false, error: 'invalid_arguments' };
      return { ok: true, view: { id: `V${String(++sequence).padStart(8, '0')}`, ...view } };
    },
  };

  const server: Server = createServer((request, response) => {
    void handle(request, response).catch(() => {
      if (!response.headersSent) response.writeHead(500).end();
    });
  });

  async function handle(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const body = await readBody(request);
    const path = (request.url ?? '').split('?')[0] ?? '';
    if (path.startsWith('/response/') && request.method === 'POST') {
      responses.push({ id: decodeURIComponent(path.slice('/response/'.length)), body: JSON.parse(body) as Record<string, unknown> });
      return send(response, { ok: true });
    }
    if (!path.startsWith('/api/') || request.method !== 'POST') {
      response.writeHead(404).end();
      return;
    }
    const method = path.slice('/api/'.length);
    const args = parseArgs(request, body);
    const authorization = request.headers.authorization;
    const token = authorization?.startsWith('Bearer ') ? authorization.slice('Bearer '.length) : args.token;
    const record = (result: Record<string, unknown>) => {
      calls.push({ method, args, ok: result.ok === true, ...(typeof result.error === 'string' ? { error: result.error } : {}) });
      send(response, result);
    };
    if (token === undefined) return record({ ok: false, error: 'not_authed' });
    if (token !== options.token) return record({ ok: false, error: 'invalid_auth' });
    const failure = failures.get(method);
    if (failure && failure.count > 0) {
      failure.count--;
      return record({ ok: false, error: failure.error });
    }
    const implementation = methods[method];
    record(implementation ? implementation(args) : { ok: false, error: 'unknown_method' });
  }

  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    apiUrl: `${origin}/api/`,
    token: options.token,
    calls,
    responses,
    messages,
    callsOf: (method) => calls.filter((call) => call.method === method),
    responseUrl: (id = randomBytes(6).toString('hex')) => `${origin}/response/${encodeURIComponent(id)}`,
    triggerId() {
      const id = `${++sequence}.${randomBytes(8).toString('hex')}`;
      triggers.set(id, Date.now());
      return id;
    },
    failNext(method, error, count = 1) {
      failures.set(method, { error, count });
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

function parseArgs(request: IncomingMessage, body: string): Record<string, unknown> {
  const type = (request.headers['content-type'] ?? '').split(';')[0]?.trim();
  const raw: Record<string, unknown> = type === 'application/json' ? (JSON.parse(body || '{}') as Record<string, unknown>) : Object.fromEntries(new URLSearchParams(body));
  for (const field of jsonFields) {
    if (typeof raw[field] === 'string') {
      try {
        raw[field] = JSON.parse(raw[field] as string);
      } catch {
        // Left as the string Slack would reject; the method decides.
      }
    }
  }
  return raw;
}

async function readBody(request: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of request) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

function send(response: ServerResponse, body: unknown): void {
  const text = JSON.stringify(body);
  response.writeHead(200, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(text) });
  response.end(text);
}

/** How Slack delivers an interaction: form-encoded `payload=<json>`, signed with the app's signing secret. */
export function signInteraction(
  payload: unknown,
  signingSecret: string,
  options: { timestamp?: number; signature?: string } = {},
): { body: string; headers: Record<string, string> } {
  const body = new URLSearchParams({ payload: JSON.stringify(payload) }).toString();
  const timestamp = String(options.timestamp ?? Math.floor(Date.now() / 1000));
  return {
    body,
    headers: {
      'content-type': 'application/x-www-form-urlencoded',
      'x-slack-request-timestamp': timestamp,
      'x-slack-signature': options.signature ?? slackSignature(signingSecret, timestamp, body),
    },
  };
}

export async function postInteraction(
  url: string,
  payload: unknown,
  signingSecret: string,
  options: { timestamp?: number; signature?: string } = {},
): Promise<{ status: number; body: string }> {
  const { body, headers } = signInteraction(payload, signingSecret, options);
  const response = await fetch(url, { method: 'POST', headers, body });
  return { status: response.status, body: await response.text() };
}

/** A button click as Slack sends it (block_actions), trimmed to the fields Slack always includes. */
export function buttonClick(options: {
  user: { id: string; name: string };
  actionId: string;
  approvalId: string;
  channel: string;
  messageTs: string;
  responseUrl: string;
  triggerId: string;
}): Record<string, unknown> {
  return {
    type: 'block_actions',
    user: { id: options.user.id, username: options.user.name, name: options.user.name, team_id: 'T0STANDIN' },
    api_app_id: 'A0STANDIN',
    token: 'verification-token-is-deprecated',
    container: { type: 'message', message_ts: options.messageTs, channel_id: options.channel, is_ephemeral: false },
    trigger_id: options.triggerId,
    team: { id: 'T0STANDIN', domain: 'standin' },
    channel: { id: options.channel, name: 'approvals' },
    message: { type: 'message', ts: options.messageTs },
    response_url: options.responseUrl,
    actions: [
      {
        action_id: options.actionId,
        block_id: 'airlock_vote',
        type: 'button',
        value: options.approvalId,
        action_ts: `${Date.now() / 1000}`,
      },
    ],
  };
}

/** A modal's submission (view_submission) carrying one plain-text input's value. */
export function viewSubmission(options: {
  user: { id: string; name: string };
  callbackId: string;
  privateMetadata: string;
  values: Record<string, Record<string, string>>;
}): Record<string, unknown> {
  const values = Object.fromEntries(
    Object.entries(options.values).map(([block, actions]) => [
      block,
      Object.fromEntries(Object.entries(actions).map(([action, value]) => [action, { type: 'plain_text_input', value }])),
    ]),
  );
  return {
    type: 'view_submission',
    team: { id: 'T0STANDIN', domain: 'standin' },
    user: { id: options.user.id, username: options.user.name, name: options.user.name, team_id: 'T0STANDIN' },
    api_app_id: 'A0STANDIN',
    trigger_id: `${Date.now()}.trigger`,
    view: {
      id: 'V0STANDIN',
      type: 'modal',
      callback_id: options.callbackId,
      private_metadata: options.privateMetadata,
      state: { values },
    },
  };
}

/** Someone in the stand-in's workspace. */
export interface SlackPerson {
  id: string;
  name: string;
}

export interface SlackWorkspace {
  /** The message (as last updated) whose blocks mention `text`, e.g. an approval id or an instance id. */
  messageMentioning(text: string): PostedMessage | undefined;
  /** The value of the button labelled `label` on `message` (the bot puts the approval id there). */
  buttonValue(message: PostedMessage, label: string): string;
  /**
   * `person` presses the button labelled `label` (Approve, Deny) on `message`, delivered signed to the bot; the bot's
   * answer to the person goes to the response_url named `responseId` (standin.responses).
   */
  press(person: SlackPerson, message: PostedMessage, label: string, responseId?: string): Promise<{ status: number; body: string; triggerId: string }>;
  /** `person` types `text` into the input of the modal the bot opened for `triggerId` and submits it, delivered signed. */
  submitModal(person: SlackPerson, triggerId: string, text: string): Promise<{ status: number; body: string }>;
}

interface BlockElement {
  type?: string;
  action_id?: string;
  value?: string;
  text?: { text?: string };
}
interface Block {
  type?: string;
  block_id?: string;
  elements?: BlockElement[];
  element?: BlockElement;
}

/**
 * People using what the bot posted in the stand-in, the way Slack would deliver it: they find a message by what it
 * says, press its buttons by their labels and fill in the modal the bot opened, and every interaction reaches the
 * bot's interactivity URL signed with the app's signing secret.
 */
export function slackWorkspace(standin: SlackStandin, interactionsUrl: string, signingSecret: string): SlackWorkspace {
  const buttonOf = (message: PostedMessage, label: string): BlockElement => {
    const button = (message.blocks as Block[])
      .flatMap((block) => block.elements ?? [])
      .find((element) => element.type === 'button' && element.text?.text === label);
    if (!button?.action_id) throw new Error(`the message has no ${label} button`);
    return button;
  };
  return {
    messageMentioning: (text) => [...standin.messages.values()].find((message) => JSON.stringify(message.blocks).includes(text)),
    buttonValue: (message, label) => buttonOf(message, label).value ?? '',
    async press(person, message, label, responseId) {
      const button = buttonOf(message, label);
      const triggerId = standin.triggerId();
      const payload = buttonClick({
        user: person,
        actionId: button.action_id!,
        approvalId: button.value ?? '',
        channel: message.channel,
        messageTs: message.ts,
        responseUrl: standin.responseUrl(responseId),
        triggerId,
      });
      return { ...(await postInteraction(interactionsUrl, payload, signingSecret)), triggerId };
    },
    async submitModal(person, triggerId, text) {
      let opened: ApiCall | undefined;
      for (let attempt = 0; attempt < 100 && !opened; attempt++) {
        opened = standin.callsOf('views.open').find((call) => call.ok && call.args.trigger_id === triggerId);
        if (!opened) await new Promise((resolve) => setTimeout(resolve, 50));
      }
      if (!opened) throw new Error(`the bot opened no modal for trigger ${triggerId}`);
      const view = opened.args.view as { callback_id: string; private_metadata: string; blocks: Block[] };
      const input = view.blocks.find((block) => block.type === 'input');
      if (!input?.block_id || !input.element?.action_id) throw new Error('the modal has no input');
      return postInteraction(
        interactionsUrl,
        viewSubmission({
          user: person,
          callbackId: view.callback_id,
          privateMetadata: view.private_metadata,
          values: { [input.block_id]: { [input.element.action_id]: text } },
        }),
        signingSecret,
      );
    },
  };
}
