import { splitVirtualHost } from '@airlock/aws-protocol';
import { AirlockError } from '@airlock/errors';

/** How a request addressed the edge: directly, or with labels in front of an edge host name. */
export interface HostAddressing {
  /**
   * The labels in front of the edge host (`my-bucket` of `my-bucket.airlock.example.com`): an S3 bucket (virtual-hosted
   * addressing), or S3 Control's account id. Always a valid S3 bucket name.
   */
  prefix?: string;
}

/**
 * The Host header must name this edge, or (S3 virtual-hosted style, S3 Control's account-id prefix) a valid bucket
 * name followed by a dot and a name of this edge. A proxy that forwarded by Host could be pointed anywhere; Airlock
 * derives the upstream itself, and refusing foreign hosts makes a confused client fail loudly instead of silently.
 * IP literals (127.0.0.1, [::1]) are edge hosts only as they are: `bucket.127.0.0.1` names nothing.
 */
export function createHostCheck(configured: readonly string[], listenHost: string, port: number): (host: string | undefined) => HostAddressing {
  const allowed = new Set(
    (configured.length > 0 ? configured : [listenHost, 'localhost', '127.0.0.1', '[::1]']).flatMap((name) => {
      const lower = name.toLowerCase();
      return /:\d+$/.test(lower) ? [lower] : [lower, `${lower}:${port}`];
    }),
  );
  return (host) => {
    const split = splitVirtualHost(host, allowed);
    if (split && split.prefix === undefined) return {};
    if (split?.prefix !== undefined && isVirtualHostBucket(split.prefix)) return { prefix: split.prefix };
    throw new AirlockError('EndpointNotAllowed', `Host "${(host ?? '').slice(0, 100)}" is not served by this Airlock edge; point the client's endpoint at Airlock itself.`);
  };
}

/**
 * S3's naming rules for general purpose buckets ("Bucket naming rules"): 3 to 63 characters of lower-case letters,
 * digits, dots and hyphens, starting and ending with a letter or digit, no two adjacent dots, not an IP address, and
 * none of the prefixes and suffixes S3 reserves.
 */
export function isVirtualHostBucket(name: string): boolean {
  return (
    /^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/.test(name)
    && !name.includes('..')
    && !/^\d{1,3}\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(name)
    && !/^(xn--|sthree-|amzn-s3-demo-)/.test(name)
    && !/(-s3alias|--ol-s3|\.mrap|--x-s3|--table-s3)$/.test(name)
  );
}
