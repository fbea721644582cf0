export type { EdgeDependencies } from './dependencies.js';
export { startEdgeProxy, type RunningEdge } from './edge.js';
export { createSessionEventSink, type SessionEventSink } from './events.js';
export { revokedSessionKey } from './revocations.js';
export type { EdgeSettings } from './settings.js';
