import { createServer as createHttp1Server, type IncomingMessage, type ServerResponse } from 'node:http';
import { createServer as createHttp2Server, type Http2ServerRequest, type Http2ServerResponse, type ServerHttp2Session } from 'node:http2';
import { createServer as createNetServer, type AddressInfo, type Socket } from 'node:net';
import type { EdgeDependencies } from './dependencies.js';
import { createUpstreamAgents } from './forward.js';
import { createHostCheck } from './hosts.js';
import { handleRequest, type PipelineContext } from './pipeline.js';
import { asHttp1Exchange, routeByPreface } from './protocol-sniff.js';
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
  // One port, two protocols: stock AWS SDK clients speak HTTP/1.1, or HTTP/2 with prior knowledge (h2c) for services
  // whose default handler is NodeHttp2Handler (Kinesis, Transcribe Streaming, Bedrock streaming). The listener peeks
  // at each connection's first bytes and hands it to the server that speaks its protocol.
  const http1 = createHttp1Server({ keepAliveTimeout: 65_000, requestTimeout: 0 });
  http1.on('clientError', (_error, socket) => {
    if (socket.writable) socket.end('HTTP/1.1 400 Bad Request\r\nConnection: close\r\n\r\n');
  });
  const http2 = createHttp2Server();
  const sessions = new Set<ServerHttp2Session>();
  http2.on('session', (session) => {
    sessions.add(session);
    session.once('close', () => sessions.delete(session));
  });
  // A broken HTTP/2 session is the client's business; it is torn down, never the edge.
  http2.on('sessionError', (error) => deps.logger.debug({ err: error }, 'http/2 session error'));
  const sockets = new Set<Socket>();
  const undecided = new Set<Socket>();
  const server = createNetServer((socket) => {
    sockets.add(socket);
    undecided.add(socket);
    socket.once('close', () => {
      sockets.delete(socket);
      undecided.delete(socket);
    });
    const handOver = (to: 'http1' | 'http2') => (decided: Socket) => {
      undecided.delete(decided);
      if (to === 'http1') http1.emit('connection', decided);
      else http2.emit('connection', decided);
    };
    routeByPreface(socket, handOver('http1'), handOver('http2'));
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
  const onHttp2Request = (request: Http2ServerRequest, response: Http2ServerResponse) => {
    const exchange = asHttp1Exchange(request, response);
    onRequest(exchange.request, exchange.response);
  };
  http1.on('request', onRequest);
  http2.on('request', onHttp2Request);
  // Without these listeners node answers `Expect: 100-continue` at once, before anything is checked; the pipeline
  // sends 100 Continue itself, only once the request has passed (see handleRequest).
  http1.on('checkContinue', onRequest);
  http2.on('checkContinue', onHttp2Request);
  deps.logger.info({ listen: `${listenHost}:${port}`, edgeId: deps.settings.edgeId }, 'edge listening');
  return {
    port,
    url: `http://${listenHost.includes(':') ? `[${listenHost}]` : listenHost}:${port}`,
    async close(graceMs = 10_000) {
      // The listener stops accepting; connections already taken close once their calls are done.
      const closed = new Promise<'closed'>((resolve) => server.close(() => resolve('closed')));
      const closeIdle = () => {
        http1.closeIdleConnections();
        // GOAWAY: no new streams; a session closes once its open streams are done.
        for (const session of sessions) session.close();
        // Connected but silent: not a call yet.
        for (const socket of undecided) socket.destroy();
      };
      closeIdle();
      const timedOut = new Promise<'timeout'>((resolve) => setTimeout(() => resolve('timeout'), graceMs).unref());
      // Kept-alive HTTP/1.1 connections whose calls have just finished are idle now.
      if ((await Promise.race([Promise.allSettled([...inFlight]), timedOut])) !== 'timeout') closeIdle();
      if ((await Promise.race([closed, timedOut])) === 'timeout') {
        http1.closeAllConnections();
        for (const session of sessions) session.destroy();
        for (const socket of sockets) socket.destroy();
        await closed;
      }
      upstreams.close();
    },
  };
}

function splitHostPort(listen: string): [string, number] {
  const colon = listen.lastIndexOf(':');
  return [listen.slice(0, colon).replace(/^\[|\]$/g, ''), Number(listen.slice(colon + 1))];
}
