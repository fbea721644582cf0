import { AirlockError } from '@airlock/errors';
import type { ServiceInfo } from './services.js';

export type Partition = 'aws' | 'aws-cn' | 'aws-us-gov';

const partitions: Record<Partition, { dnsSuffix: string; globalRegion: string; regionPattern: RegExp }> = {
  aws: { dnsSuffix: 'amazonaws.com', globalRegion: 'us-east-1', regionPattern: /^(us|eu|ap|sa|ca|me|af|il|mx)-[a-z]+-\d+$/ },
  'aws-cn': { dnsSuffix: 'amazonaws.com.cn', globalRegion: 'cn-north-1', regionPattern: /^cn-[a-z]+-\d+$/ },
  'aws-us-gov': { dnsSuffix: 'amazonaws.com', globalRegion: 'us-gov-west-1', regionPattern: /^us-gov-[a-z]+-\d+$/ },
};

export interface UpstreamTarget {
  readonly url: URL;
  /** The region the upstream request is signed for. */
  readonly signingRegion: string;
}

export interface EndpointPolicy {
  partition: Partition;
  /** When non-empty, the only regions calls may go to. */
  allowedRegions: readonly string[];
  /** Overrides every derived endpoint (an emulator in tests, a VPC endpoint). */
  upstreamEndpoint?: string | undefined;
}

/**
 * Derives where a call goes from its service and region alone. The client's Host header never takes part, so a
 * client cannot steer Airlock anywhere but a real endpoint of an allowlisted service in an allowlisted region.
 */
export function resolveUpstream(service: ServiceInfo, region: string, policy: EndpointPolicy): UpstreamTarget {
  const partition = partitions[policy.partition];
  const signingRegion = service.global ? partition.globalRegion : region;
  if (!partition.regionPattern.test(region) || (policy.allowedRegions.length > 0 && !policy.allowedRegions.includes(region))) {
    throw new AirlockError('EndpointNotAllowed', `Region "${region.slice(0, 64)}" is not allowed by this Airlock deployment.`);
  }
  if (policy.upstreamEndpoint) return { url: new URL(policy.upstreamEndpoint), signingRegion };
  const host = service.global
    ? `${service.endpointPrefix}.${partition.dnsSuffix}`
    : `${service.endpointPrefix}.${region}.${partition.dnsSuffix}`;
  return { url: new URL(`https://${host}`), signingRegion };
}
