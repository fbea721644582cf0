import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { EdgeDependencies } from './dependencies.js';
import { createUpstreamAgents } from './forward.js';
import { createHostCheck } from './hosts.js';
import { handleRequest, type PipelineContext } from './pipeline.js';
import { createRevocationCheck } from './revocations.js';
import { createSessionRegistry } from './session-registry.js';

export interface RunningEdge {
  readonly port: number;
  readonly url: string;
  /** Stops accepting connections, lets in-flight calls finish for `graceMs`, then cuts the rest. */
  close(graceMs?: number): Promise<void>;
}

/** Starts the AWS-compatible HTTP endpoint. */
export async function startEdgeProxy(deps: EdgeDependencies): Promise<RunningEdge> {
  const [listenHost, listenPort] = splitHostPort(deps.settings.listen);
  const upstreams = createUpstreamAgents();
  const inFlight = new Set<Promise<void>>();
  const server: Server = createServer({ keepAliveTimeout: 65_000, requestTimeout: 0 });
  server.on('clientError', (_error, socket) => {
    if (socket.writable) socket.end('HTTP/1.1 400 Bad Request\r\nConnection: close\r\n\r\n');
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(listenPort, listenHost, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const port = (server.address() as AddressInfo).port;
  // The host check needs the bound port, so requests are taken only from here on.
  const context: PipelineContext = {
    deps,
    upstreams,
    assertHost: createHostCheck(deps.settings.hosts, listenHost, port),
    revocations: createRevocationCheck(deps.state),
    registry: createSessionRegistry(deps.state, { edgeId: deps.settings.edgeId, maxSessionSeconds: deps.settings.maxSessionSeconds, now: deps.now }),
  };
  const onRequest = (request: IncomingMessage, response: ServerResponse) => {
    const handled = handleRequest(request, response, context).catch((error: unknown) => {
      deps.logger.error({ err: error }, 'request handler failed');
      response.destroy();
    });
    inFlight.add(handled);
    void handled.finally(() => inFlight.delete(handled));
  };
  server.on('request', onRequest);
  // Without this listener node answers `Expect: 100-continue` at once, before anything is checked; the pipeline sends
  // 100 Continue itself, only once the request has passed (see handleRequest).
  server.on('checkContinue', onRequest);
  deps.logger.info({ listen: `${listenHost}:${port}`, edgeId: deps.settings.edgeId }, 'edge listening');
  return {
    port,
    url: `http://${listenHost.includes(':') ? `[${listenHost}]` : listenHost}:${port}`,
    async close(graceMs = 10_000) {
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeIdleConnections();
      const drained = Promise.allSettled([...inFlight]);
      const timedOut = new Promise<'timeout'>((resolve) => setTimeout(() => resolve('timeout'), graceMs).unref());
      if ((await Promise.race([drained, timedOut])) === 'timeout') server.closeAllConnections();
      await closed;
      upstreams.close();
    },
  };
}

function splitHostPort(listen: string): [string, number] {
  const colon = listen.lastIndexOf(':');
  return [listen.slice(0, colon).replace(/^\[|\]$/g, ''), Number(listen.slice(colon + 1))];
}
