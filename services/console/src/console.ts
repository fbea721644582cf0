import { once } from 'node:events';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Bus } from '@airlock/bus';
import { toAirlockError } from '@airlock/errors';
import type { Logger } from '@airlock/logging';
import { handleApi, type RecorderQueries } from './api-routes.js';
import { ApprovalFeed } from './approval-feed.js';
import { Assets } from './assets.js';
import { handleAuth } from './auth-routes.js';
import { cookieNames } from './cookies.js';
import { EdgeAdminApi } from './edge-admin.js';
import { sendJson } from './http.js';
import { OidcSignIn, type OidcSettings } from './oidc.js';
import { PersonSessions } from './person-session.js';
import { SignIns } from './sign-ins.js';
import type { ErrorResponse, PolicyResponse } from './views.js';

export interface ConsoleOptions {
  /** host:port */
  listen: string;
  /** The address people open. @default http://<listen> */
  publicUrl?: string;
  /** An edge whose admin API the console calls as the signed-in person. */
  edgeUrl: string;
  oidc: Omit<OidcSettings, 'redirectUri'>;
  /** Longest a sign-in lasts. */
  sessionSeconds: number;
  /** The recorder's query contract (list, get, verify), over gRPC or bound in process. */
  recorder: RecorderQueries;
  /** Approval events wake the approvals pages; without a bus they refresh on a timer only. */
  bus?: Pick<Bus, 'watch'>;
  /** The policy text in force, as the composition root reads it (see docs/console.md). */
  policy: () => Promise<PolicyResponse>;
  logger: Logger;
  now?: () => number;
}

export interface RunningConsole {
  /** Where it listens, e.g. http://127.0.0.1:4580 */
  readonly url: string;
  close(): Promise<void>;
}

/**
 * The web console: one page (Preact, web/src) and a thin server that signs people in at the IdP and acts for them at
 * the edge's admin API and the recorder's query contract. See docs/console.md.
 */
export async function startConsole(options: ConsoleOptions): Promise<RunningConsole> {
  const now = options.now ?? Date.now;
  const at = options.listen.lastIndexOf(':');
  const host = options.listen.slice(0, at).replace(/^\[(.*)\]$/, '$1');
  const port = Number(options.listen.slice(at + 1));

  const server = createServer();
  server.listen(port, host);
  await once(server, 'listening');
  const bound = (server.address() as AddressInfo).port;
  const url = `http://${options.listen.slice(0, at)}:${bound}`;
  const publicUrl = new URL(options.publicUrl ?? url);
  const cookies = cookieNames(publicUrl);
  const oidc = new OidcSignIn({ ...options.oidc, redirectUri: new URL('/auth/callback', publicUrl).href });
  const signIns = new SignIns(now);
  const sessions = new PersonSessions(signIns, oidc, cookies, publicUrl.origin, now);
  const edge = new EdgeAdminApi(options.edgeUrl);
  const feed = new ApprovalFeed(options.bus, options.logger);
  const assets = new Assets();
  const auth = { oidc, signIns, sessions, edge, cookies, publicUrl, sessionSeconds: options.sessionSeconds, logger: options.logger };
  const api = { sessions, edge, recorder: options.recorder, feed, policy: options.policy, logger: options.logger };

  const handle = async (request: IncomingMessage, response: ServerResponse) => {
    const requestUrl = new URL(request.url ?? '/', 'http://console');
    const path = requestUrl.pathname;
    try {
      if (path === '/health') return sendJson(response, 200, { status: 'ok' });
      if (path.startsWith('/auth/')) return await handleAuth(request, response, requestUrl, auth);
      if (path.startsWith('/api/')) return await handleApi(request, response, requestUrl, api);
      if ((request.method === 'GET' || request.method === 'HEAD') && (await assets.serve(path, request.headers['if-none-match'], response))) return;
      sendJson(response, 404, { code: 'NotFound', message: `Nothing at ${path.slice(0, 200)}.` } satisfies ErrorResponse);
    } catch (thrown) {
      const error = toAirlockError(thrown);
      if (error.code === 'Internal' || error.code === 'DependencyUnavailable') {
        options.logger.warn({ code: error.code, err: error.cause ?? error, path: path.slice(0, 200) }, error.message);
      }
      if (response.headersSent) response.end();
      else sendJson(response, error.status, { code: error.code, message: error.message } satisfies ErrorResponse);
    }
    if (!request.readableEnded) request.resume();
  };
  server.on('request', (request: IncomingMessage, response: ServerResponse) => {
    request.on('error', () => response.destroy());
    response.on('error', () => undefined);
    void handle(request, response);
  });
  options.logger.info({ url, publicUrl: publicUrl.href, edgeUrl: options.edgeUrl }, 'console serving');

  return {
    url,
    async close() {
      feed.close();
      // Open event streams would hold close() forever.
      server.closeAllConnections();
      server.close();
      await once(server, 'close').catch(() => undefined);
    },
  };
}
