import { CredentialVendingServiceService } from '@airlock/contracts';
import { AirlockError } from '@airlock/errors';
import type { Logger } from '@airlock/logging';
import type { ServiceRuntime } from '@airlock/transport';
import { createExpiringCache } from './cache.js';
import { createAwsSts, type AssumedCredentials, type Sts } from './sts.js';
import { createVendHandler, minDurationSeconds } from './vend.js';

export interface CredentialVendingOptions {
  /** Region of the STS endpoint. */
  region: string;
  /** Upstream STS endpoint for emulators and tests; the real regional STS endpoint when absent. */
  endpoint?: string;
  /** Longest lifetime of vended credentials, and the lifetime when a request names none; at least 900. */
  durationSeconds: number;
  logger: Logger;
  /** Clock for cache expiry. @default Date.now */
  now?: () => number;
  /** STS replacement for tests; when absent, the AWS SDK with the default credential chain. */
  sts?: Sts;
}

/** Cached credentials are handed out until this long before they expire. */
const refreshAheadMs = 5 * 60_000;
const maxCachedEntries = 10_000;
// STS caps AssumeRole at 12 hours (and at the role's MaxSessionDuration, which STS enforces).
const maxDurationSeconds = 43_200;

export async function createCredentialVendingService(
  options: CredentialVendingOptions,
): Promise<ServiceRuntime<typeof CredentialVendingServiceService>> {
  const { durationSeconds } = options;
  if (!Number.isInteger(durationSeconds) || durationSeconds < minDurationSeconds || durationSeconds > maxDurationSeconds) {
    throw new AirlockError('InvalidConfiguration', `credentials.durationSeconds must be an integer from ${minDurationSeconds} to ${maxDurationSeconds}`);
  }
  if (!options.region) throw new AirlockError('InvalidConfiguration', 'credentials.region must name an AWS region');

  const ownsSts = options.sts === undefined;
  const sts = options.sts ?? createAwsSts({ region: options.region, ...(options.endpoint ? { endpoint: options.endpoint } : {}) });
  const cache = createExpiringCache<AssumedCredentials>({ now: options.now ?? Date.now, refreshAheadMs, maxEntries: maxCachedEntries });
  const logger = options.logger;

  return {
    name: 'credential-vending',
    definition: CredentialVendingServiceService,
    implementation: { vend: createVendHandler({ sts, cache, durationSeconds, logger }) },
    async close() {
      cache.clear();
      if (ownsSts) sts.close?.();
    },
  };
}
