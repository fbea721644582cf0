import type { Bus } from '@airlock/bus';
import { approvalEventsStream, type ApprovalServiceService } from '@airlock/contracts';
import { AirlockError } from '@airlock/errors';
import type { Logger } from '@airlock/logging';
import type { StateStore } from '@airlock/state';
import type { ServiceClient } from '@airlock/transport';
import { startConsumer, type BackoffOptions } from './consumer.js';
import type { MappedIdentity } from './identity.js';
import { startInteractionServer } from './interactions.js';
import { MessageLedger } from './ledger.js';
import { createWebApi, type SlackApi } from './slack-api.js';

export interface SlackBotOptions {
  bus: Bus;
  /** Where posted messages are recorded; shared by every bot process. */
  state: StateStore;
  /** The approval service, over gRPC or bound in process. */
  approvals: ServiceClient<typeof ApprovalServiceService>;
  /** The bot token (xoxb-…); never logged. */
  botToken: string;
  /** The app's signing secret; never logged. */
  signingSecret: string;
  /** Base URL of the Web API (a stand-in in tests). @default https://slack.com/api/ */
  apiUrl?: string;
  /** Channels (ids or names) every request is posted to. */
  channels: string[];
  /** host:port of the interactivity endpoint (path /slack/interactions). */
  listen: string;
  /** Slack user id → Airlock identity; checked first. */
  users?: Record<string, MappedIdentity>;
  /** Profile e-mail → Airlock identity, looked up with users.info. */
  people?: Record<string, MappedIdentity>;
  logger: Logger;
  /** Durable consumer name; bot processes sharing it share the work. @default 'slack-bot' */
  durable?: string;
  /** @default Date.now */
  now?: () => number;
  retry?: BackoffOptions;
  /** Replaces the Web API client (tests). */
  slack?: SlackApi;
}

export interface SlackBot {
  /** The interactivity Request URL to configure in the Slack app. */
  readonly interactionsUrl: string;
  close(): Promise<void>;
}

/** Starts the consumer of approval events and the interactivity endpoint. The caller owns bus, state and client. */
export async function startSlackBot(options: SlackBotOptions): Promise<SlackBot> {
  if (options.botToken === '') throw new AirlockError('InvalidConfiguration', 'The Slack bot needs a bot token.');
  if (options.signingSecret === '') throw new AirlockError('InvalidConfiguration', 'The Slack bot needs a signing secret.');
  if (options.channels.length === 0) throw new AirlockError('InvalidConfiguration', 'The Slack bot needs at least one channel.');
  const now = options.now ?? Date.now;
  // Creating the stream here (as the approval service does) lets the bot start first.
  await options.bus.ensureStream({ name: approvalEventsStream.name, subjects: [...approvalEventsStream.subjects] });
  const slack = options.slack ?? createWebApi({ token: options.botToken, ...(options.apiUrl ? { apiUrl: options.apiUrl } : {}) });
  const ledger = new MessageLedger({ state: options.state, slack, channels: options.channels, now });
  const server = await startInteractionServer(options.listen, {
    signingSecret: options.signingSecret,
    slack,
    approvals: options.approvals,
    ledger,
    mapping: { users: options.users ?? {}, people: options.people ?? {} },
    logger: options.logger,
    now,
  });
  const durable = options.durable ?? 'slack-bot';
  const consumer = startConsumer({ bus: options.bus, ledger, durable, logger: options.logger, ...(options.retry ? { retry: options.retry } : {}) });
  options.logger.info({ durable, channels: options.channels, interactions: server.url }, 'slack bot running');
  let closing: Promise<void> | undefined;
  return {
    interactionsUrl: server.url,
    close() {
      closing ??= (async () => {
        await consumer.stop();
        await server.close();
      })();
      return closing;
    },
  };
}
