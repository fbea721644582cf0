import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

/**
 * Every Prometheus metric Airlock exports, in one registry per process (embedded mode: all services in it; distributed:
 * the one service the process runs). Labels are kept to small, bounded sets: AWS service and operation names come from
 * the catalogue (unknown operations are named "unknown"), decisions and codes from enums. ARNs, principals, session
 * ids and anything a client chooses freely never become labels.
 */
export const registry = new Registry();
collectDefaultMetrics({ register: registry, prefix: 'airlock_process_' });

/** Seconds buckets from 0.5 ms to 30 s: the edge adds milliseconds, approvals and uploads take seconds. */
const latencyBuckets = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];

export const metrics = {
  edgeCalls: new Counter({
    name: 'airlock_edge_calls_total',
    help: 'Calls the edge answered, by AWS service, operation, policy decision and outcome (ok or the Airlock error code).',
    labelNames: ['aws_service', 'operation', 'decision', 'outcome'] as const,
    registers: [registry],
  }),
  edgeDuration: new Histogram({
    name: 'airlock_edge_call_duration_seconds',
    help: 'Time from a call arriving at the edge to its answer ending, by AWS service and decision.',
    labelNames: ['aws_service', 'decision'] as const,
    buckets: latencyBuckets,
    registers: [registry],
  }),
  upstreamDuration: new Histogram({
    name: 'airlock_edge_upstream_duration_seconds',
    help: 'Time from forwarding a call to AWS until AWS answered with headers, by AWS service.',
    labelNames: ['aws_service'] as const,
    buckets: latencyBuckets,
    registers: [registry],
  }),
  edgeThrottled: new Counter({
    name: 'airlock_edge_throttled_total',
    help: 'Calls refused with a throttling error, by limit: principal or role (rate), concurrency (load shedding).',
    labelNames: ['limit'] as const,
    registers: [registry],
  }),
  edgeInFlight: new Gauge({
    name: 'airlock_edge_calls_in_flight',
    help: 'Calls the edge is working on right now (those counted by the concurrency limit).',
    registers: [registry],
  }),
  approvalWaits: new Counter({
    name: 'airlock_approval_waits_total',
    help: 'Calls held at the edge for an approval decision, by how the wait ended (approved, denied, expired, pending, aborted).',
    labelNames: ['result'] as const,
    registers: [registry],
  }),
  approvalWaitDuration: new Histogram({
    name: 'airlock_approval_wait_duration_seconds',
    help: 'How long calls were held waiting for an approval decision.',
    buckets: [0.01, 0.1, 0.5, 1, 2.5, 5, 10, 25, 60, 120, 300],
    registers: [registry],
  }),
  stsCalls: new Counter({
    name: 'airlock_sts_calls_total',
    help: 'sts:AssumeRole calls made by credential vending, by outcome (ok, throttled, unavailable, error).',
    labelNames: ['outcome'] as const,
    registers: [registry],
  }),
  credentialCache: new Counter({
    name: 'airlock_credential_cache_total',
    help: 'Credential cache lookups by level (memory: this process, shared: Redis) and result (hit, miss).',
    labelNames: ['level', 'result'] as const,
    registers: [registry],
  }),
  maskedBytes: new Counter({
    name: 'airlock_masking_bytes_total',
    help: 'Bytes of AWS answers that went through the masking stream.',
    registers: [registry],
  }),
  masks: new Counter({
    name: 'airlock_masks_total',
    help: 'Values masked in AWS answers, by kind (aws-secret-key, secret-string, email, ...).',
    labelNames: ['kind'] as const,
    registers: [registry],
  }),
  recorderEvents: new Counter({
    name: 'airlock_recorder_events_written_total',
    help: 'Session events the recorder wrote to the blob store.',
    registers: [registry],
  }),
  recorderLag: new Gauge({
    name: 'airlock_recorder_lag_seconds',
    help: 'Age of the newest session event the recorder wrote, when it wrote it: how far recordings trail the calls.',
    registers: [registry],
  }),
  rpcServerCalls: new Counter({
    name: 'airlock_rpc_server_calls_total',
    help: 'Service calls served, by method, gRPC status code name and transport (grpc; in-process in embedded mode).',
    labelNames: ['method', 'code', 'transport'] as const,
    registers: [registry],
  }),
  rpcServerDuration: new Histogram({
    name: 'airlock_rpc_server_call_duration_seconds',
    help: 'Time to serve a service call, by method and transport: policy decisions are method "airlock.v1.PolicyService/Decide".',
    labelNames: ['method', 'transport'] as const,
    buckets: latencyBuckets,
    registers: [registry],
  }),
  rpcClientDuration: new Histogram({
    name: 'airlock_rpc_client_call_duration_seconds',
    help: 'Time a unary gRPC call took as its caller saw it (network and queueing included), by method.',
    labelNames: ['method'] as const,
    buckets: latencyBuckets,
    registers: [registry],
  }),
};

/** Seconds elapsed since `startedAt` (a performance.now() reading), for histograms. */
export function secondsSince(startedAt: number): number {
  return (performance.now() - startedAt) / 1000;
}
