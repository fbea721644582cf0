import type { IncomingMessage, ServerResponse } from 'node:http';
import { toAirlockError } from '@airlock/errors';
import type { Logger } from '@airlock/logging';
import type { ApprovalFeed } from './approval-feed.js';
import { baseHeaders } from './http.js';

/** A comment line now and then keeps proxies from closing a quiet stream. */
const keepAliveMs = 15_000;

export interface ApprovalStreamOptions {
  feed: ApprovalFeed;
  /** The approvals this person may see, from the edge's admin API with their token. */
  fetch: () => Promise<unknown>;
  logger: Logger;
}

/**
 * `GET /api/approvals/stream`: Server-Sent Events. An `approvals` event with the whole list the person may see at once,
 * then again whenever the feed says something changed; an `failure` event (`{code, message}`) when a fetch fails
 * (the page shows it; MissingAuthentication ends the stream: the sign-in is over). One fetch at a time per stream:
 * changes during a fetch cause exactly one more.
 */
export function streamApprovals(request: IncomingMessage, response: ServerResponse, options: ApprovalStreamOptions): void {
  response.writeHead(200, {
    ...baseHeaders,
    'content-type': 'text/event-stream; charset=utf-8',
    'cache-control': 'no-store',
    'x-accel-buffering': 'no',
  });
  let fetching = false;
  let again = false;
  let closed = false;
  const send = (event: string, data: unknown) => {
    if (!closed) response.write(`event: ${event}\ndata: ${JSON.stringify(data)}\n\n`);
  };
  const refresh = async () => {
    if (fetching) {
      again = true;
      return;
    }
    fetching = true;
    try {
      do {
        again = false;
        try {
          send('approvals', await options.fetch());
        } catch (thrown) {
          const error = toAirlockError(thrown);
          send('failure', { code: error.code, message: error.message });
          if (error.code === 'MissingAuthentication') {
            close();
            return;
          }
          if (error.code === 'Internal') options.logger.warn({ err: error.cause ?? error }, 'approvals stream fetch failed');
        }
      } while (again && !closed);
    } finally {
      fetching = false;
    }
  };
  const unsubscribe = options.feed.subscribe(() => void refresh());
  const keepAlive = setInterval(() => {
    if (!closed) response.write(': keep-alive\n\n');
  }, keepAliveMs);
  const close = () => {
    if (closed) return;
    closed = true;
    unsubscribe();
    clearInterval(keepAlive);
    response.end();
  };
  request.on('close', close);
  response.on('error', close);
  void refresh();
}
