import { AsyncLocalStorage } from 'node:async_hooks';
import { trace } from '@opentelemetry/api';

/** Fields that name the call being served (`requestId`), added to every log line written while it runs. */
export type CallBindings = Record<string, string>;

const calls = new AsyncLocalStorage<CallBindings>();

/**
 * Runs `work` as one call: every line any logger writes inside it, in any module, carries `bindings`, and whatever
 * `addCallBindings` adds later. Nested calls start from a copy of the outer call's bindings.
 */
export function runWithCallBindings<T>(bindings: CallBindings, work: () => T): T {
  return calls.run({ ...calls.getStore(), ...bindings }, work);
}

/** Adds fields to the current call's bindings (e.g. the request id once the edge has made it). No call: no effect. */
export function addCallBindings(bindings: CallBindings): void {
  const store = calls.getStore();
  if (store) Object.assign(store, bindings);
}

/** The current call's bindings; empty outside a call. */
export function callBindings(): Readonly<CallBindings> {
  return calls.getStore() ?? {};
}

/** What pino merges into each line: the call's bindings and the active trace (ids only, never baggage). */
export function logLineContext(): Record<string, string> {
  const span = trace.getActiveSpan()?.spanContext();
  const store = calls.getStore();
  if (!span || !trace.isSpanContextValid(span)) return store ? { ...store } : {};
  return { ...store, traceId: span.traceId, spanId: span.spanId };
}
