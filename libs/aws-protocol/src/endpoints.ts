import { AirlockError } from '@airlock/errors';
import type { CallDescription } from './call.js';
import type { ServiceInfo } from './services.js';

export type { Partition } from '@airlock/aws-catalogue';
import type { Partition } from '@airlock/aws-catalogue';

const partitions: Record<Partition, { dnsSuffix: string; dualStackSuffix: string; regionPattern: RegExp }> = {
  aws: { dnsSuffix: 'amazonaws.com', dualStackSuffix: 'api.aws', regionPattern: /^(us|eu|ap|sa|ca|me|af|il|mx)-[a-z]+-\d+$/ },
  'aws-cn': { dnsSuffix: 'amazonaws.com.cn', dualStackSuffix: 'api.amazonwebservices.com.cn', regionPattern: /^cn-[a-z]+-\d+$/ },
  'aws-us-gov': { dnsSuffix: 'amazonaws.com', dualStackSuffix: 'api.aws', regionPattern: /^us-gov-[a-z]+-\d+$/ },
};

// DNS labels, each followed by a dot, or ending in a hyphen that joins the endpoint prefix ("data-" + "servicediscovery").
const hostLabels = /^(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)*(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.|[a-z0-9][a-z0-9-]{0,61}-)$/;

export interface UpstreamTarget {
  readonly url: URL;
  /** The region the upstream request is signed for. */
  readonly signingRegion: string;
}

export interface EndpointPolicy {
  partition: Partition;
  /** When non-empty, the only regions regional calls may go to (global services are not regional; policy decides them). */
  allowedRegions: readonly string[];
  /** Overrides every derived endpoint (an emulator in tests, a VPC endpoint); host prefixes are not applied to it. */
  upstreamEndpoint?: string | undefined;
  /**
   * Use FIPS endpoints (`<prefix>-fips.<region>.<suffix>`; `<prefix>-fips.<suffix>` for global IAM and Route 53).
   * A deployment setting, never a client's choice; whether a service offers one is not checked.
   * @default false
   */
  fips?: boolean | undefined;
  /**
   * Use dual-stack (IPv6) endpoints (`<prefix>.<region>.api.aws`; `s3.dualstack.<region>.amazonaws.com` for S3).
   * @default false
   */
  dualStack?: boolean | undefined;
}

/**
 * Derives where a call goes from its service and region alone (plus the operation's host prefix, which classify
 * checked to be DNS labels, e.g. S3 Control's account id). The client's Host header never takes part, so a client
 * cannot steer Airlock anywhere but a real endpoint of an allowlisted service in an allowlisted region.
 */
export function resolveUpstream(service: ServiceInfo, region: string, policy: EndpointPolicy, call?: Pick<CallDescription, 'hostPrefix'>): UpstreamTarget {
  const partition = Object.hasOwn(partitions, policy.partition) ? partitions[policy.partition] : undefined;
  if (!partition) throw new AirlockError('EndpointNotAllowed', `Partition "${String(policy.partition).slice(0, 32)}" is not known.`);
  const global = service.globalEndpoints?.[policy.partition];
  const regionOk = typeof region === 'string' && partition.regionPattern.test(region);
  if (!regionOk || (!global && policy.allowedRegions.length > 0 && !policy.allowedRegions.includes(region))) {
    throw new AirlockError('EndpointNotAllowed', `Region "${String(region).slice(0, 64)}" is not allowed by this Airlock deployment.`);
  }
  const signingRegion = global ? global[1] : region;
  if (policy.upstreamEndpoint) return { url: new URL(policy.upstreamEndpoint), signingRegion };
  const prefix = call?.hostPrefix && call.hostPrefix.length <= 253 && hostLabels.test(call.hostPrefix) ? call.hostPrefix : '';
  const host = global ? globalHost(service, global[0], partition.dnsSuffix, policy) : regionalHost(service, region, partition, policy);
  return { url: new URL(`https://${prefix}${host}`), signingRegion };
}

function globalHost(service: ServiceInfo, host: string, dnsSuffix: string, policy: EndpointPolicy): string {
  if (policy.fips && host === `${service.endpointPrefix}.${dnsSuffix}`) return `${service.endpointPrefix}-fips.${dnsSuffix}`;
  return host;
}

function regionalHost(service: ServiceInfo, region: string, partition: (typeof partitions)[Partition], policy: EndpointPolicy): string {
  const prefix = service.endpointPrefix;
  const legacyDualStack = prefix === 's3' || prefix === 's3-control';
  if (policy.dualStack) {
    if (legacyDualStack) return `${prefix}${policy.fips ? '-fips' : ''}.dualstack.${region}.${partition.dnsSuffix}`;
    return `${fipsPrefix(prefix, policy.fips)}.${region}.${partition.dualStackSuffix}`;
  }
  return `${fipsPrefix(prefix, policy.fips)}.${region}.${partition.dnsSuffix}`;
}

function fipsPrefix(prefix: string, fips: boolean | undefined): string {
  if (!fips) return prefix;
  if (prefix === 'api.ecr') return 'ecr-fips';
  return `${prefix}-fips`;
}
