import type { Partition } from '@airlock/aws-protocol';
import type { TlsFiles } from '@airlock/transport';
import type { DecisionCacheSettings } from './decision-cache.js';
import type { LimitSettings } from './limits.js';

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
  /** masking.failure and masking.holdBytes (answer.ts). @default strict, 1 MiB */
  masking?: { failure: 'strict' | 'open'; holdBytes: number };
  /** edge.tls: serve HTTPS with this certificate and key, reloaded when the files change; absent: plain HTTP. */
  tls?: TlsFiles | undefined;
  /** edge.limits: rate limits per principal and role, and the concurrency limit (limits.ts). @default no limits */
  limits?: LimitSettings | undefined;
  /**
   * edge.opsListen: host:port of the operations listener (ops-listener.ts), which serves liveness, readiness with its
   * reasons and metrics; port 0 picks a free one. Absent: none, and the public port's bare probes are all there is.
   */
  opsListen?: string | undefined;
  /** edge.metrics: serve Prometheus metrics at /_airlock/metrics on the operations listener. @default true */
  metrics?: boolean | undefined;
  /** Groups whose members may list and revoke every session through the admin API (admin.groups). */
  adminGroups: readonly string[];
  /** The `iss` of every trusted identity issuer: the admin API checks and defaults a revoked subject's issuer by them. */
  issuers: readonly string[];
  /** Each issuer's kind ("people" or "workloads"), sent to policy as the principal's kind. */
  issuerKinds?: Readonly<Record<string, string>> | undefined;
  /** edge.decisionCache (decision-cache.ts). @default no cache */
  decisionCache?: DecisionCacheSettings | undefined;
}
