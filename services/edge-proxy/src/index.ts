export type { EdgeDependencies } from './dependencies.js';
export { startEdgeProxy, type RunningEdge } from './edge.js';
export { createSessionEventSink, type SessionEventSink } from './events.js';
export type { ApprovalResponse, ApprovalsResponse, ApprovalStatusName, ApprovalView, ApprovalVoteView } from './admin-approvals.js';
export type { AdminErrorResponse, RevokeResponse, SessionsResponse, WhoamiResponse } from './admin-api.js';
export { revokedSessionKey, revokedSubjectKey } from './revocations.js';
export type { SessionRecord, SessionView } from './session-registry.js';
export type { EdgeSettings } from './settings.js';
