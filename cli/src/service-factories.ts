import { resolve } from 'node:path';
import type { AirlockConfig, ServiceName } from '@airlock/config';
import type { ApprovalServiceService } from '@airlock/contracts';
import { AirlockError } from '@airlock/errors';
import type { Logger } from '@airlock/logging';
import type { ServiceClient, ServiceRuntime } from '@airlock/transport';
import { createApprovalService } from '@airlock/approval';
import { createCredentialVendingService } from '@airlock/credential-vending';
import { createMaskingService } from '@airlock/masking';
import { createPolicyService } from '@airlock/policy';
import { createRecorderService, parseSigningKey } from '@airlock/recorder';
import { startSlackBot, type SlackBot } from '@airlock/slack-bot';
import type { DriverSet } from './driver-set.js';

type Factory = (config: AirlockConfig, drivers: DriverSet, logger: Logger) => Promise<ServiceRuntime>;

/** How each back-end service is built from the configuration; the same in both modes. */
export const serviceFactories: Record<ServiceName, Factory> = {
  policy: async (config, _drivers, logger) =>
    createPolicyService({
      files: config.policy.files.map((file) => resolve(file)),
      logger,
      ...(config.policy.shadow
        ? { shadow: { files: config.policy.shadow.files.map((file) => resolve(file)), reportSeconds: config.policy.shadow.reportSeconds } }
        : {}),
    }) as Promise<ServiceRuntime>,
  approval: async (_config, drivers, logger) =>
    createApprovalService({ state: await drivers.state(), bus: await drivers.bus(), logger }) as Promise<ServiceRuntime>,
  'credential-vending': async (config, drivers, logger) =>
    createCredentialVendingService({
      region: config.credentials.region,
      durationSeconds: config.credentials.durationSeconds,
      logger,
      ...(config.upstream.endpoint ? { endpoint: config.upstream.endpoint } : {}),
      // Shared only where several processes can vend (Redis); one embedded process has its in-process cache.
      ...(config.drivers.state.kind === 'redis'
        ? {
            sharedCache: {
              store: () => drivers.state(),
              keys: process.env[config.credentials.cache.keyEnv] || undefined,
              keySource: config.credentials.cache.keyEnv,
            },
          }
        : {}),
    }) as Promise<ServiceRuntime>,
  masking: async (_config, _drivers, logger) => createMaskingService({ logger }) as Promise<ServiceRuntime>,
  recorder: async (config, drivers, logger) =>
    createRecorderService({
      bus: await drivers.bus(),
      blob: await drivers.blob(),
      prefix: config.recorder.prefix,
      indexPrefix: config.recorder.indexPrefix,
      batchSize: config.recorder.batchSize,
      ackWaitMs: config.recorder.ackWaitMs,
      // Where a recorder can restart while nats-server keeps its predecessor's unacked events. Everywhere else it would
      // only delay recordings at every start (in embedded mode the bus restarts with the recorder).
      startupHoldMs: config.drivers.bus.kind === 'nats' ? config.recorder.ackWaitMs : 0,
      logger,
      ...(process.env[config.recorder.signingKeyEnv]
        ? { signingKey: parseSigningKey(process.env[config.recorder.signingKeyEnv]!, config.recorder.signingKeyEnv) }
        : {}),
    }) as Promise<ServiceRuntime>,
};

/**
 * The Slack bot, when `slack` is configured. It serves no gRPC contract (its endpoint is Slack's interactivity
 * callback on slack.listen), so it is not one of the ServiceNames: `airlock dev` starts it beside the others and
 * `airlock serve slack-bot` on its own, voting through the approval service in process or over gRPC.
 */
export async function startConfiguredSlackBot(
  config: AirlockConfig,
  drivers: DriverSet,
  approvals: ServiceClient<typeof ApprovalServiceService>,
  logger: Logger,
): Promise<SlackBot | undefined> {
  const slack = config.slack;
  if (!slack) return undefined;
  const secret = (name: string) => {
    const value = process.env[name];
    if (!value) throw new AirlockError('InvalidConfiguration', `The Slack bot needs the environment variable ${name} set.`);
    return value;
  };
  return startSlackBot({
    bus: await drivers.bus(),
    state: await drivers.state(),
    approvals,
    botToken: secret(slack.botTokenEnv),
    signingSecret: secret(slack.signingSecretEnv),
    ...(slack.apiUrl ? { apiUrl: slack.apiUrl } : {}),
    channels: [...slack.channels],
    listen: slack.listen,
    users: slack.users,
    people: slack.people,
    logger,
  });
}
