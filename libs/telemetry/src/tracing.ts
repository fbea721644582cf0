import { ROOT_CONTEXT, SpanKind, SpanStatusCode, context, propagation, trace, type Attributes, type Context, type Link, type Span } from '@opentelemetry/api';
import type { SpanProcessor } from '@opentelemetry/sdk-trace-node';

export { SpanKind } from '@opentelemetry/api';

export interface TracingSettings {
  /** service.name of every span this process makes ("airlock-edge", "airlock-policy", or "airlock" embedded). */
  serviceName: string;
  /** OTLP/HTTP traces endpoint (".../v1/traces"); unset: spans carry ids and propagate, but none is recorded. */
  otlpEndpoint?: string | undefined;
  /** Share of new traces sampled when spans are exported; a call keeps the decision of the trace it belongs to. @default 1 */
  sampleRatio?: number | undefined;
}

export interface RunningTracing {
  /** Exports what is still buffered and stops. */
  shutdown(): Promise<void>;
}

const tracer = () => trace.getTracer('airlock');

/**
 * Registers the process's tracer provider: W3C trace context (traceparent, tracestate) is read from and written to
 * gRPC metadata and NATS headers, and the active span follows async work through AsyncLocalStorage.
 *
 * Without an OTLP endpoint nothing would read a recorded span, so none is recorded: the sampler answers NOT_RECORD,
 * for which the SDK still makes a span context with a trace id (a root's new one, a child's its parent's) and a span
 * id, only not the span (attributes, events, timings). Logs keep naming the trace and services keep continuing each
 * other's; the traceparent they send says "not sampled", so a process that exports follows a trace another process
 * started only if that one exports too (all processes read one tracing section, so they agree).
 */
export async function startTracing(settings: TracingSettings): Promise<RunningTracing> {
  // The SDK is loaded by processes that trace, not by every `airlock` command that imports this library.
  const [{ resourceFromAttributes }, { AlwaysOffSampler, BatchSpanProcessor, NodeTracerProvider, ParentBasedSampler, TraceIdRatioBasedSampler }] = await Promise.all([
    import('@opentelemetry/resources'),
    import('@opentelemetry/sdk-trace-node'),
  ]);
  const spanProcessors: SpanProcessor[] = [];
  if (settings.otlpEndpoint) {
    const { OTLPTraceExporter } = await import('@opentelemetry/exporter-trace-otlp-http');
    spanProcessors.push(new BatchSpanProcessor(new OTLPTraceExporter({ url: settings.otlpEndpoint })));
  }
  const provider = new NodeTracerProvider({
    resource: resourceFromAttributes({ 'service.name': settings.serviceName }),
    sampler: settings.otlpEndpoint ? new ParentBasedSampler({ root: new TraceIdRatioBasedSampler(settings.sampleRatio ?? 1) }) : new AlwaysOffSampler(),
    spanProcessors,
  });
  // A process registers once; a second start (tests run several Airlocks in one process) takes over from the first.
  trace.disable();
  propagation.disable();
  context.disable();
  provider.register();
  return { shutdown: () => provider.shutdown() };
}

/** The active trace context as carrier entries (`traceparent`, `tracestate`) to put in metadata or headers. */
export function traceHeaders(): Record<string, string> {
  const carrier: Record<string, string> = {};
  propagation.inject(context.active(), carrier);
  return carrier;
}

/** The trace context a peer sent in `headers`, to continue its trace. */
export function contextFrom(headers: Readonly<Record<string, string>>): Context {
  return propagation.extract(ROOT_CONTEXT, headers);
}

/**
 * Runs `work` in a new span, active for everything `work` awaits; the span ends when `work` settles and records a
 * failure. `parent` defaults to the active context.
 */
export function inSpan<T>(
  name: string,
  options: { kind?: SpanKind; attributes?: Attributes; parent?: Context; links?: Link[] },
  work: (span: Span) => Promise<T>,
): Promise<T> {
  const parent = options.parent ?? context.active();
  const span = tracer().startSpan(name, { kind: options.kind ?? SpanKind.INTERNAL, attributes: options.attributes ?? {}, links: options.links ?? [] }, parent);
  return context.with(trace.setSpan(parent, span), async () => {
    try {
      return await work(span);
    } catch (error) {
      span.setStatus({ code: SpanStatusCode.ERROR, message: error instanceof Error ? error.message : String(error) });
      throw error;
    } finally {
      span.end();
    }
  });
}

/** Links to the spans that produced a batch of messages (one consumer span serves many producers' traces). */
export function linksFrom(headersOfMessages: readonly Readonly<Record<string, string>>[]): Link[] {
  const links: Link[] = [];
  for (const headers of headersOfMessages) {
    const spanContext = trace.getSpanContext(contextFrom(headers));
    if (spanContext && trace.isSpanContextValid(spanContext)) links.push({ context: spanContext });
  }
  return links;
}

/** Adds attributes to the active span, if any (what a call turned out to be once it is known). */
export function setActiveSpanAttributes(attributes: Attributes): void {
  trace.getActiveSpan()?.setAttributes(attributes);
}
