import { CredentialVendingServiceService } from '@airlock/contracts';
import { AirlockError } from '@airlock/errors';
import type { Logger } from '@airlock/logging';
import type { StateStore } from '@airlock/state';
import type { ServiceRuntime } from '@airlock/transport';
import { createExpiringCache } from './cache.js';
import { defaultRetryPolicy, type RetryHooks, type RetryPolicy } from './retry.js';
import { parseKeyRing } from './sealing.js';
import type { CachedCredentials } from './refresh.js';
import { createSharedCredentialCache, type SharedCacheOptions, type SharedCredentialCache } from './shared-cache.js';
import { createAwsSts, type Sts } from './sts.js';
import { createVendHandler, minDurationSeconds } from './vend.js';

export interface SharedCacheSettings {
  /** The store shared by every credential-vending process (Redis when distributed). Opened only when a key is set. */
  store: () => Promise<StateStore>;
  /** `kid:base64key[,kid:base64key]`, usually read from the environment; absent: the shared cache is off. */
  keys: string | undefined;
  /** Where `keys` came from, for messages: the environment variable's name. */
  keySource: string;
  /** Tuning of the cross-process single flight, for tests. */
  tuning?: Pick<SharedCacheOptions, 'lockTtlMs' | 'maxWaitMs' | 'pollMs' | 'sleep' | 'prefix'>;
}

export interface CredentialVendingOptions {
  /** Region of the STS endpoint. */
  region: string;
  /** Upstream STS endpoint for emulators and tests; the real regional STS endpoint when absent. */
  endpoint?: string;
  /** Longest lifetime of vended credentials, and the lifetime when a request names none; at least 900. */
  durationSeconds: number;
  logger: Logger;
  /** Clock for cache expiry and time bounds. @default Date.now */
  now?: () => number;
  /** STS replacement for tests; when absent, the AWS SDK with the default credential chain. */
  sts?: Sts;
  /** Second-level cache shared across processes; absent: in-process only. */
  sharedCache?: SharedCacheSettings;
  /** Retries of transient STS failures (throttling, 5xx, network). @default 3 attempts, 200 ms base, 2 s cap */
  retry?: RetryPolicy;
  retryHooks?: RetryHooks;
}

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

  const now = options.now ?? Date.now;
  const logger = options.logger;
  const shared = await openSharedCache(options.sharedCache, { logger, now });
  const ownsSts = options.sts === undefined;
  const sts = options.sts ?? createAwsSts({ region: options.region, ...(options.endpoint ? { endpoint: options.endpoint } : {}) });
  const cache = createExpiringCache<CachedCredentials>({ now, maxEntries: maxCachedEntries });

  return {
    name: 'credential-vending',
    definition: CredentialVendingServiceService,
    implementation: {
      vend: createVendHandler({
        sts,
        cache,
        durationSeconds,
        logger,
        now,
        retry: options.retry ?? defaultRetryPolicy,
        ...(shared ? { shared } : {}),
        ...(options.retryHooks ? { retryHooks: options.retryHooks } : {}),
      }),
    },
    async close() {
      cache.clear();
      if (ownsSts) sts.close?.();
    },
  };
}

async function openSharedCache(
  settings: SharedCacheSettings | undefined,
  { logger, now }: { logger: Logger; now: () => number },
): Promise<SharedCredentialCache | undefined> {
  if (!settings) return undefined;
  if (!settings.keys) {
    logger.info({ keyEnv: settings.keySource }, `shared credential cache off: no encryption key in ${settings.keySource}; caching in process only`);
    return undefined;
  }
  const keys = parseKeyRing(settings.keys, settings.keySource);
  const store = await settings.store();
  logger.info({ keyIds: keys.keyIds, sealingKeyId: keys.sealingKeyId }, 'shared credential cache on (AES-256-GCM)');
  return createSharedCredentialCache({ store, keys, logger, now, ...settings.tuning });
}
