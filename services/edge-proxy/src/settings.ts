import type { Partition } from '@airlock/aws-protocol';

/** What the edge needs from the configuration, already validated and frozen. */
export interface EdgeSettings {
  /** host:port to listen on; port 0 picks a free one. */
  listen: string;
  /** Host names clients may address; empty means the listen address, localhost and 127.0.0.1 on the bound port. */
  hosts: readonly string[];
  edgeId: string;
  clockSkewSeconds: number;
  maxSessionSeconds: number;
  partition: Partition;
  allowedRegions: readonly string[];
  upstreamEndpoint?: string | undefined;
  /** Derive FIPS and/or dual-stack endpoints. */
  fips: boolean;
  dualStack: boolean;
  dependencyTimeoutMs: number;
  /**
   * How long a call that needs approval is held for the decision (edge.approvalWaitSeconds); 0 answers at once.
   * @default 25 when omitted — below SDK read timeouts, so the agent reads Airlock's answer rather than a timeout.
   */
  approvalWaitSeconds?: number;
  /** edge.recording: 'strict' forwards a call only once its request event is on the bus. @default 'best-effort' */
  recording?: 'strict' | 'best-effort';
  /** Groups whose members may list and revoke every session through the admin API (admin.groups). */
  adminGroups: readonly string[];
  /** The `iss` of every trusted identity issuer: the admin API checks and defaults a revoked subject's issuer by them. */
  issuers: readonly string[];
}
