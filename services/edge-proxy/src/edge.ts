import { createServer as createHttp1Server, type IncomingMessage, type ServerResponse } from 'node:http';
import { createServer as createHttp2Server, type Http2ServerRequest, type Http2ServerResponse, type ServerHttp2Session } from 'node:http2';
import type { AddressInfo, Socket } from 'node:net';
import { createLifecycle, type Lifecycle, type ReadinessCheck } from '@airlock/transport';
import { observeRequest } from './call-telemetry.js';
import { DecisionCache } from './decision-cache.js';
import type { EdgeDependencies } from './dependencies.js';
import { createUpstreamAgents } from './forward.js';
import { createHostCheck } from './hosts.js';
import { createCallLimits } from './limits.js';
import { handleRequest, type PipelineContext } from './pipeline.js';
import { startOpsListener } from './ops-listener.js';
import { answerProbe } from './probes.js';
import { asHttp1Exchange, routeByPreface } from './protocol-sniff.js';
import { createRevocationCheck } from './revocations.js';
import { createSessionRegistry } from './session-registry.js';
import { createEdgeListener } from './tls-listener.js';

export interface RunningEdge {
  readonly port: number;
  readonly url: string;
  /** The operations listener's base URL (health, readiness with reasons, metrics), when edge.opsListen names one. */
  readonly opsUrl?: string;
  /** Readiness (`/_airlock/ready`) and drain state. */
  readonly lifecycle: Lifecycle;
  /**
   * Drains: reports not ready, stops accepting connections, closes idle ones and answers the rest with
   * `Connection: close`, and lets in-flight calls finish for `graceMs`. Calls still held for approval then answer with a
   * retryable ServiceUnavailable (drain.ts); whatever is still running after that is cut.
   */
  close(graceMs?: number): Promise<void>;
}

export interface EdgeLifecycleOptions {
  /** What the edge needs to serve (state store, back-end services); `/_airlock/ready` fails while one fails. */
  readiness?: readonly ReadinessCheck[];
}

/** How long held calls get, once the grace is over, to write their retryable answer before connections are cut. */
const heldAnswerMs = 2_000;

/** Starts the AWS-compatible HTTP endpoint. */
export async function startEdgeProxy(deps: EdgeDependencies, lifecycleOptions: EdgeLifecycleOptions = {}): Promise<RunningEdge> {
  const [listenHost, listenPort] = splitHostPort(deps.settings.listen);
  const upstreams = createUpstreamAgents();
  const inFlight = new Set<Promise<void>>();
  const lifecycle = createLifecycle(lifecycleOptions.readiness ?? []);
  const drainEnded = new AbortController();
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
  const server = createEdgeListener(deps.settings.tls, deps.logger, (socket) => {
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
    drainEnded: drainEnded.signal,
    limits: createCallLimits(deps.settings.limits ?? { maxConcurrentCalls: 0, shared: false }, deps.state, deps.logger),
    decisions: new DecisionCache(deps.settings.decisionCache ?? { ttlSeconds: 0, maxEntries: 1 }),
  };
  const onRequest = (request: IncomingMessage, response: ServerResponse) => {
    // Load balancers probe the port they send calls to; anything more about the edge is on the operations listener.
    if (answerProbe(request, response, lifecycle, 'bare')) return;
    const handled = observeRequest(request, () => handleRequest(request, response, context)).catch((error: unknown) => {
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
  const onHttp1Request = (request: IncomingMessage, response: ServerResponse) => {
    // A draining edge closes each connection after its answer, so the client (or load balancer) opens the next
    // one to another edge instead of racing the close of an idle one. (HTTP/2 sessions get GOAWAY instead.)
    if (lifecycle.state === 'draining') response.setHeader('connection', 'close');
    onRequest(request, response);
  };
  http1.on('request', onHttp1Request);
  http2.on('request', onHttp2Request);
  // Without these listeners node answers `Expect: 100-continue` at once, before anything is checked; the pipeline
  // sends 100 Continue itself, only once the request has passed (see handleRequest).
  http1.on('checkContinue', onHttp1Request);
  http2.on('checkContinue', onHttp2Request);
  const { opsListen } = deps.settings;
  const ops = opsListen
    ? await startOpsListener(opsListen, lifecycle, { metrics: deps.settings.metrics !== false }).catch(async (error: unknown) => {
        // The edge does not start without its operations listener (its address is taken): nothing stays open.
        const closed = new Promise<void>((resolve) => server.close(() => resolve()));
        for (const socket of sockets) socket.destroy();
        await closed;
        upstreams.close();
        throw error;
      })
    : undefined;
  const opsUrl = ops && opsListen ? `http://${urlHost(splitHostPort(opsListen)[0])}:${ops.port}` : undefined;
  deps.logger.info({ listen: `${listenHost}:${port}`, ...(opsUrl ? { operations: opsUrl } : {}), edgeId: deps.settings.edgeId }, 'edge listening');
  return {
    port,
    url: `${deps.settings.tls ? 'https' : 'http'}://${urlHost(listenHost)}:${port}`,
    ...(opsUrl ? { opsUrl } : {}),
    lifecycle,
    async close(graceMs = 10_000) {
      lifecycle.drain();
      deps.logger.info({ graceMs, inFlight: inFlight.size }, 'edge draining');
      // The listener stops accepting; connections already taken close once their calls are done.
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      const closeIdle = () => {
        http1.closeIdleConnections();
        // GOAWAY: no new streams; a session closes once its open streams are done.
        for (const session of sessions) session.close();
        // Connected but silent: not a call yet.
        for (const socket of undecided) socket.destroy();
      };
      // Calls keep arriving on connections already open until each has had its `Connection: close` answer.
      const callsDone = async () => {
        while (inFlight.size > 0) {
          await Promise.allSettled([...inFlight]);
          closeIdle();
        }
      };
      closeIdle();
      const deadline = Date.now() + graceMs;
      if (!(await settlesWithin(callsDone(), graceMs))) {
        drainEnded.abort();
        deps.logger.warn({ inFlight: inFlight.size }, 'drain grace over: held calls answer ServiceUnavailable, the rest are cut');
        await settlesWithin(callsDone(), heldAnswerMs);
      }
      closeIdle();
      if (!(await settlesWithin(closed, Math.max(deadline - Date.now(), 0) + heldAnswerMs))) {
        http1.closeAllConnections();
        for (const session of sessions) session.destroy();
        for (const socket of sockets) socket.destroy();
        await closed;
      }
      upstreams.close();
      // Last: readiness says "draining" to the kubelet until the very end.
      await ops?.close();
      deps.logger.info('edge drained');
    },
  };
}

/** Whether `work` settles within `ms`; it keeps running either way. */
async function settlesWithin(work: Promise<unknown>, ms: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const timedOut = new Promise<false>((resolve) => {
    timer = setTimeout(() => resolve(false), ms);
  });
  try {
    return await Promise.race([work.then(() => true), timedOut]);
  } finally {
    clearTimeout(timer);
  }
}

function urlHost(host: string): string {
  return host.includes(':') ? `[${host}]` : host;
}

function splitHostPort(listen: string): [string, number] {
  const colon = listen.lastIndexOf(':');
  return [listen.slice(0, colon).replace(/^\[|\]$/g, ''), Number(listen.slice(colon + 1))];
}
