import { hostname } from 'node:os';
import type { AirlockConfig } from '@airlock/config';
import type {
  ApprovalServiceService,
  CredentialVendingServiceService,
  MaskingServiceService,
  PolicyServiceService,
} from '@airlock/contracts';
import { createSessionEventSink, startEdgeProxy, type RunningEdge } from '@airlock/edge-proxy';
import { createSessionAuthority, createTokenVerifier, parseSessionKeyRing } from '@airlock/identity';
import type { Logger } from '@airlock/logging';
import type { ReadinessCheck, ServiceClient } from '@airlock/transport';
import type { DriverSet } from './driver-set.js';
import { readSessionKeys } from './session-keys.js';

export interface EdgeClients {
  policy: ServiceClient<typeof PolicyServiceService>;
  approval: ServiceClient<typeof ApprovalServiceService>;
  credentials: ServiceClient<typeof CredentialVendingServiceService>;
  masking: ServiceClient<typeof MaskingServiceService>;
}

export async function startEdge(
  config: AirlockConfig,
  clients: EdgeClients,
  drivers: DriverSet,
  logger: Logger,
  options: { embedded: boolean; env?: NodeJS.ProcessEnv; readiness?: readonly ReadinessCheck[] },
): Promise<RunningEdge> {
  const edgeId = config.edge.id ?? `${hostname()}-${process.pid}`;
  const keys = await readSessionKeys(config.identity.sessionKeysEnv, options.env ?? process.env, options.embedded ? config.dataDir : undefined);
  if (config.identity.issuers.length === 0) {
    logger.warn('no identity issuers are configured: every AssumeRoleWithWebIdentity will be refused (see README, identity.issuers)');
  }
  logger.info(
    { recording: config.edge.recording },
    config.edge.recording === 'strict'
      ? 'session recording is strict: calls are forwarded only after their event is on the bus'
      : 'session recording is best-effort: a bus outage loses events but does not block calls',
  );
  return startEdgeProxy({
    settings: {
      listen: config.edge.listen,
      hosts: config.edge.hosts,
      edgeId,
      clockSkewSeconds: config.edge.clockSkewSeconds,
      maxSessionSeconds: config.edge.maxSessionSeconds,
      partition: config.upstream.partition,
      allowedRegions: config.edge.allowedRegions,
      upstreamEndpoint: config.upstream.endpoint,
      fips: config.upstream.fips,
      dualStack: config.upstream.dualStack,
      dependencyTimeoutMs: config.edge.dependencyTimeoutMs,
      approvalWaitSeconds: config.edge.approvalWaitSeconds,
      recording: config.edge.recording,
      masking: { ...config.masking },
      tls: config.edge.tls,
      limits: config.edge.limits,
      opsListen: config.edge.opsListen,
      metrics: config.edge.metrics,
      adminGroups: config.admin.groups,
      issuers: config.identity.issuers.map((issuer) => issuer.issuer),
      issuerKinds: Object.fromEntries(config.identity.issuers.map((issuer) => [issuer.issuer, issuer.kind])),
      decisionCache: config.edge.decisionCache,
    },
    logger,
    tokens: createTokenVerifier(
      config.identity.issuers.map((issuer) => ({
        issuer: issuer.issuer,
        audience: Array.isArray(issuer.audience) ? [...issuer.audience] : issuer.audience,
        kind: issuer.kind,
        claims: { ...issuer.claims },
        roles: [...issuer.roles],
        ...(issuer.maxSessionSeconds === undefined ? {} : { maxSessionSeconds: issuer.maxSessionSeconds }),
        ...(issuer.jwksUri ? { jwksUri: issuer.jwksUri } : {}),
        ...(issuer.algorithms ? { algorithms: [...issuer.algorithms] } : {}),
      })),
    ),
    sessions: createSessionAuthority(parseSessionKeyRing(keys)),
    ...clients,
    events: createSessionEventSink(await drivers.bus(), edgeId, logger),
    bus: await drivers.bus(),
    state: await drivers.state(),
    now: () => new Date(),
  }, { readiness: options.readiness ?? [] });
}
