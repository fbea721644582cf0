export { metrics, registry, secondsSince } from './metrics.js';
export { startMetricsServer, writeMetrics, type RunningMetricsServer } from './metrics-server.js';
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
