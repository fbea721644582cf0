export { metrics, registry, secondsSince } from './metrics.js';
export { answerMetrics, startMetricsServer, startOpsServer, type RunningMetricsServer, type RunningOpsServer } from './metrics-server.js';
export {
  SpanKind,
  contextFrom,
  inSpan,
  linksFrom,
  setActiveSpanAttributes,
  startTracing,
  traceHeaders,
  type RunningTracing,
  type TracingSettings,
} from './tracing.js';
