import { resolve } from 'node:path';
import type { AirlockConfig, ServiceName } from '@airlock/config';
import type { Logger } from '@airlock/logging';
import type { ServiceRuntime } from '@airlock/transport';
import { createApprovalService } from '@airlock/approval';
import { createCredentialVendingService } from '@airlock/credential-vending';
import { createMaskingService } from '@airlock/masking';
import { createPolicyService } from '@airlock/policy';
import { createRecorderService } from '@airlock/recorder';
import type { DriverSet } from './driver-set.js';

type Factory = (config: AirlockConfig, drivers: DriverSet, logger: Logger) => Promise<ServiceRuntime>;

/** How each back-end service is built from the configuration; the same in both modes. */
export const serviceFactories: Record<ServiceName, Factory> = {
  policy: async (config, _drivers, logger) =>
    createPolicyService({ files: config.policy.files.map((file) => resolve(file)), logger }) as Promise<ServiceRuntime>,
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
      batchSize: config.recorder.batchSize,
      logger,
    }) as Promise<ServiceRuntime>,
};
