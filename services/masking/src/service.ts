import { MaskingServiceService } from '@airlock/contracts';
import type { Logger } from '@airlock/logging';
import type { ServiceRuntime } from '@airlock/transport';
import { maskStream } from './mask-stream.js';
import { plan } from './plan.js';

export interface MaskingServiceOptions {
  logger: Logger;
}

export async function createMaskingService(options: MaskingServiceOptions): Promise<ServiceRuntime<typeof MaskingServiceService>> {
  const { logger } = options;
  return {
    name: 'masking',
    definition: MaskingServiceService,
    implementation: {
      plan: async (request) => plan(request),
      mask: (requests, context) => maskStream(requests, context, logger),
    },
    close: async () => {},
  };
}
