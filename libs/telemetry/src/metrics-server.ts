import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { registry } from './metrics.js';

/** Answers `GET <path>` with the process's metrics in the Prometheus text format; returns whether it was that request. */
export function answerMetrics(request: IncomingMessage, response: ServerResponse, path: string): boolean {
  if (request.method !== 'GET' || (request.url ?? '').split('?', 1)[0] !== path) return false;
  registry.metrics().then(
    (body) => {
      response.writeHead(200, { 'content-type': registry.contentType, 'content-length': Buffer.byteLength(body) });
      response.end(body);
    },
    () => response.destroy(),
  );
  return true;
}

/** A plain-HTTP server for operators (metrics, probes) on an address of its own. */
export interface RunningOpsServer {
  readonly port: number;
  close(): Promise<void>;
}

/** A metrics server is an operations server that answers metrics alone. */
export type RunningMetricsServer = RunningOpsServer;

/**
 * Serves what `answer` answers (it returns whether it did) on `listen` ("host:port"; port 0 picks a free one), and
 * 404 to anything else. Closing it cuts its connections: scrapes and probes are retried by whoever sent them.
 */
export async function startOpsServer(listen: string, answer: (request: IncomingMessage, response: ServerResponse) => boolean): Promise<RunningOpsServer> {
  const colon = listen.lastIndexOf(':');
  const host = listen.slice(0, colon).replace(/^\[|\]$/g, '');
  const server = createServer((request, response) => {
    if (answer(request, response)) return;
    response.writeHead(404, { 'content-type': 'text/plain' }).end('not found\n');
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(Number(listen.slice(colon + 1)), host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  return {
    port: (server.address() as AddressInfo).port,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

/** Serves `GET /metrics` on its own port: for processes whose own port speaks gRPC (the back-end services). */
export function startMetricsServer(listen: string): Promise<RunningMetricsServer> {
  return startOpsServer(listen, (request, response) => answerMetrics(request, response, '/metrics'));
}
