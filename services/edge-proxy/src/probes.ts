import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Lifecycle } from '@airlock/transport';
import { sendText } from './http.js';

/** Liveness: the process answers. A draining edge is still alive, so Kubernetes lets it finish its calls. */
export const livenessPath = '/_airlock/health';
/** Readiness: 200 while the edge takes calls and its dependencies answer; 503 while draining or a dependency fails. */
export const readinessPath = '/_airlock/ready';

/**
 * How much readiness says: `reasons` (the operations listener) names the state and the failing dependencies; `bare`
 * (the public port, which every agent reaches) says ready or not and nothing about what is behind the edge.
 */
export type ReadinessDetail = 'reasons' | 'bare';

/**
 * Answers health probes, before the Host check and anything SigV4: probes come from kubelets and load balancers that
 * address the edge by its own IP, not by a name in edge.hosts. Returns whether the request was a probe.
 */
export function answerProbe(request: IncomingMessage, response: ServerResponse, lifecycle: Lifecycle, detail: ReadinessDetail): boolean {
  if (request.method !== 'GET' && request.method !== 'HEAD') return false;
  const path = (request.url ?? '').split('?', 1)[0];
  if (path === livenessPath) {
    sendText(response, 200, { 'content-type': 'text/plain' }, 'ok\n');
    return true;
  }
  if (path !== readinessPath) return false;
  const answer = (ready: boolean, report: object) =>
    sendText(response, ready ? 200 : 503, { 'content-type': 'application/json' }, `${JSON.stringify(detail === 'reasons' ? report : { ready })}\n`);
  void lifecycle.readiness().then(
    (report) => answer(report.ready, report),
    () => answer(false, { ready: false }),
  );
  return true;
}
