import { PolicyServiceService } from '@airlock/contracts';
import type { Logger } from '@airlock/logging';
import type { ServiceRuntime } from '@airlock/transport';
import { decide } from './decide.js';
import { prepareEvaluator } from './evaluate.js';
import { loadPolicies } from './load.js';

export interface PolicyServiceOptions {
  /** Cedar policy files, read in this order. */
  files: readonly string[];
  /** Relative `files` resolve against it. @default process.cwd() */
  baseDir?: string;
  logger: Logger;
}

/**
 * Loads and parses every policy file before it returns, so that a bad file stops the service at boot with the file,
 * position and Cedar's message (AirlockError InvalidConfiguration) instead of denying calls later.
 */
export async function createPolicyService(options: PolicyServiceOptions): Promise<ServiceRuntime<typeof PolicyServiceService>> {
  const logger = options.logger;
  const bundle = await loadPolicies({ files: options.files, ...(options.baseDir === undefined ? {} : { baseDir: options.baseDir }) });
  const evaluate = prepareEvaluator(bundle, logger);
  logger.info({ files: options.files, policies: bundle.meta.size }, 'policies loaded');
  return {
    name: 'policy',
    definition: PolicyServiceService,
    implementation: {
      decide: async (request) => decide(request, evaluate, bundle.meta),
    },
    close: async () => {},
  };
}
