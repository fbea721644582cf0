import type {
  ApprovalServiceService,
  CredentialVendingServiceService,
  MaskingServiceService,
  PolicyServiceService,
} from '@airlock/contracts';
import type { Bus } from '@airlock/bus';
import type { createSessionAuthority, createTokenVerifier } from '@airlock/identity';
import type { Logger } from '@airlock/logging';
import type { StateStore } from '@airlock/state';
import type { ServiceClient } from '@airlock/transport';
import type { SessionEventSink } from './events.js';
import type { EdgeSettings } from './settings.js';

export type TokenVerifier = ReturnType<typeof createTokenVerifier>;
export type SessionAuthority = ReturnType<typeof createSessionAuthority>;

/** Everything the edge talks to, as narrow interfaces: gRPC or in-process clients, drivers, a clock. */
export interface EdgeDependencies {
  settings: EdgeSettings;
  logger: Logger;
  tokens: TokenVerifier;
  sessions: SessionAuthority;
  policy: ServiceClient<typeof PolicyServiceService>;
  approval: ServiceClient<typeof ApprovalServiceService>;
  credentials: ServiceClient<typeof CredentialVendingServiceService>;
  masking: ServiceClient<typeof MaskingServiceService>;
  events: SessionEventSink;
  /**
   * The bus, to watch approval decisions (approvalEventsStream) while a call is held; without it a held call polls
   * the approval service only.
   */
  bus?: Pick<Bus, 'watch'>;
  /** Shared by every edge: the session registry and revocations (session-registry.ts, revocations.ts). */
  state: StateStore;
  now: () => Date;
}
