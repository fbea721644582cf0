import { ApprovalServiceService } from '@airlock/contracts';
import type { Bus } from '@airlock/bus';
import type { Logger } from '@airlock/logging';
import type { StateStore } from '@airlock/state';
import type { ServiceRuntime } from '@airlock/transport';
import { ApprovalStore } from './approval-store.js';
import type { ApprovalContext } from './context.js';
import { ApprovalEvents } from './events.js';
import { listApprovals, readApproval } from './read.js';
import { requestApproval } from './request-approval.js';
import { vote } from './vote.js';

export interface ApprovalServiceOptions {
  /** Where approvals live; owned by the caller, which closes it. */
  state: StateStore;
  /** Where approval events go (approvalEventsStream); owned by the caller, which closes it. */
  bus: Bus;
  logger: Logger;
  /** @default Date.now */
  now?: () => number;
  /** How long a record is kept after its last possible grant ends. @default 86_400_000 (one day) */
  retentionMs?: number;
}

/** @default 100 — ListApprovals without a limit. */
export const defaultListLimit = 100;
const maxListLimit = 1000;

export async function createApprovalService(options: ApprovalServiceOptions): Promise<ServiceRuntime<typeof ApprovalServiceService>> {
  const now = options.now ?? Date.now;
  const events = new ApprovalEvents(options.bus, options.state, now);
  const context: ApprovalContext = {
    store: new ApprovalStore(options.state, now, options.retentionMs ?? 86_400_000),
    events,
    now,
    logger: options.logger,
  };
  return {
    name: 'approval',
    definition: ApprovalServiceService,
    implementation: {
      requestApproval: async (request) => ({ approval: await requestApproval(context, request) }),
      getApproval: async (request) => ({ approval: await readApproval(context, request.id) }),
      vote: async (request) => ({ approval: await vote(context, request) }),
      listApprovals: async (request) => ({
        approvals: await listApprovals(context, request.statuses, Math.min(request.limit || defaultListLimit, maxListLimit)),
      }),
    },
    // Creating the stream up front surfaces a bus problem at boot; publishing creates it too if this was skipped.
    start: () => events.ensureStream(),
    close: async () => {},
  };
}
