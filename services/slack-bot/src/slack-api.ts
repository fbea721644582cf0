import { LogLevel, WebClient } from '@slack/web-api';
import { AirlockError } from '@airlock/errors';
import type { SlackUserInfo } from './identity.js';
import type { RenderedMessage } from './render.js';

/** The Slack calls the bot makes; the Web API in production, anything Slack-shaped in tests. */
export interface SlackApi {
  /** Resolves with the channel id and the message ts Slack assigned. */
  postMessage(channel: string, message: RenderedMessage): Promise<{ channel: string; ts: string }>;
  update(channel: string, ts: string, message: RenderedMessage): Promise<void>;
  userInfo(userId: string): Promise<SlackUserInfo | undefined>;
  openView(triggerId: string, view: Record<string, unknown>): Promise<void>;
  /** An ephemeral answer to the person who clicked, through the interaction's response_url. */
  respondEphemeral(responseUrl: string, text: string): Promise<void>;
}

export interface WebApiOptions {
  token: string;
  /** Base of the Web API. @default https://slack.com/api/ */
  apiUrl?: string;
  /** Origins response_url may point at. @default ['https://hooks.slack.com'] plus the origin of apiUrl */
  responseOrigins?: string[];
  timeoutMs?: number;
}

/** The Slack Web API through @slack/web-api, with few quick retries: the bus redelivers what still fails. */
export function createWebApi(options: WebApiOptions): SlackApi {
  const client = new WebClient(options.token, {
    ...(options.apiUrl ? { slackApiUrl: options.apiUrl } : {}),
    logLevel: LogLevel.ERROR,
    timeout: options.timeoutMs ?? 10_000,
    retryConfig: { retries: 2, factor: 2, minTimeout: 200, maxTimeout: 2_000 },
  });
  const origins = new Set(options.responseOrigins ?? ['https://hooks.slack.com']);
  if (options.apiUrl) origins.add(new URL(options.apiUrl).origin);
  const timeoutMs = options.timeoutMs ?? 10_000;

  return {
    async postMessage(channel, message) {
      const result = await client.chat.postMessage({ channel, text: message.text, blocks: message.blocks as never, unfurl_links: false });
      if (!result.ts || !result.channel) throw new AirlockError('DependencyUnavailable', 'chat.postMessage answered without channel and ts.');
      return { channel: result.channel, ts: result.ts };
    },
    async update(channel, ts, message) {
      await client.chat.update({ channel, ts, text: message.text, blocks: message.blocks as never });
    },
    async userInfo(userId) {
      try {
        const result = await client.users.info({ user: userId });
        return result.user as SlackUserInfo | undefined;
      } catch (error) {
        if ((error as { data?: { error?: string } }).data?.error === 'user_not_found') return undefined;
        throw error;
      }
    },
    async openView(triggerId, view) {
      await client.views.open({ trigger_id: triggerId, view: view as never });
    },
    async respondEphemeral(responseUrl, text) {
      let url: URL;
      try {
        url = new URL(responseUrl);
      } catch {
        throw new AirlockError('InvalidRequest', 'The interaction carried an unusable response_url.');
      }
      // The payload is signed, but a response_url is still only ever sent to Slack (or the configured stand-in).
      if (!origins.has(url.origin)) throw new AirlockError('InvalidRequest', `response_url at ${url.origin} is not a Slack address.`);
      const response = await fetch(url, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ response_type: 'ephemeral', replace_original: false, text }),
        signal: AbortSignal.timeout(timeoutMs),
      });
      await response.body?.cancel();
      if (!response.ok) throw new AirlockError('DependencyUnavailable', `response_url answered ${response.status}.`);
    },
  };
}
