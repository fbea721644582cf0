import { createServer, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { registry } from './metrics.js';

/** Writes the process's metrics in the Prometheus text format. */
export async function writeMetrics(response: ServerResponse): Promise<void> {
  const body = await registry.metrics();
  response.writeHead(200, { 'content-type': registry.contentType, 'content-length': Buffer.byteLength(body) });
  response.end(body);
}

export interface RunningMetricsServer {
  readonly port: number;
  close(): Promise<void>;
}

/** Serves `GET /metrics` on its own port: for processes whose own port speaks gRPC (the back-end services). */
export async function startMetricsServer(listen: string): Promise<RunningMetricsServer> {
  const colon = listen.lastIndexOf(':');
  const host = listen.slice(0, colon).replace(/^\[|\]$/g, '');
  const server = createServer((request, response) => {
    if (request.method === 'GET' && request.url === '/metrics') {
      writeMetrics(response).catch(() => response.destroy());
      return;
    }
    response.writeHead(404, { 'content-type': 'text/plain' }).end('not found\n');
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(Number(listen.slice(colon + 1)), host, () => resolve());
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
