import type { IncomingMessage, OutgoingHttpHeaders, ServerResponse } from 'node:http';
import { constants as http2Constants, type Http2ServerRequest, type Http2ServerResponse } from 'node:http2';
import type { Socket } from 'node:net';
import { isHopByHop } from './http.js';

/** What a client speaking HTTP/2 with prior knowledge (h2c, RFC 9113 §3.3) sends first. */
export const http2Preface = Buffer.from('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n', 'latin1');

/**
 * Reads just enough of a new connection to tell HTTP/2 with prior knowledge from HTTP/1.x, puts the bytes back and
 * hands the socket on. A connection that closes or fails before deciding is simply dropped.
 */
export function routeByPreface(socket: Socket, onHttp1: (socket: Socket) => void, onHttp2: (socket: Socket) => void): void {
  let seen: Buffer = Buffer.alloc(0);
  const stop = () => {
    socket.off('data', onData);
    socket.off('error', onGone);
    socket.off('end', onGone);
  };
  const onGone = () => {
    stop();
    socket.destroy();
  };
  const onData = (chunk: Buffer) => {
    seen = seen.length === 0 ? chunk : Buffer.concat([seen, chunk]);
    const compared = Math.min(seen.length, http2Preface.length);
    const http2 = seen.subarray(0, compared).equals(http2Preface.subarray(0, compared));
    if (http2 && seen.length < http2Preface.length) return;
    stop();
    socket.pause();
    socket.unshift(seen);
    if (http2) {
      // The HTTP/2 session reads what was put back itself.
      onHttp2(socket);
    } else {
      // Node's HTTP/1 server takes a socket as it comes from a listener: flowing.
      onHttp1(socket);
      socket.resume();
    }
  };
  socket.on('data', onData);
  socket.on('error', onGone);
  socket.on('end', onGone);
}

/**
 * Lets an HTTP/2 compatibility-API exchange go through the HTTP/1 request handler, which uses only what both APIs
 * share (headers, url, method, socket.remoteAddress, complete, writeHead/setHeader/write/end, writeContinue,
 * headersSent, writableFinished, destroy, stream events). Two differences are bridged here:
 *
 * - Headers: HTTP/2 carries the host as the `:authority` pseudo-header, so `host` is filled in from it. Pseudo-headers
 *   stay readable by name (a SigV4 client over HTTP/2 signs `:authority`) but are made non-enumerable, so nothing
 *   that copies the headers (to the upstream request) takes them along.
 * - Connection-specific headers (`connection`, `keep-alive`, `transfer-encoding`, …) do not exist in HTTP/2 and node
 *   throws on them; they are dropped. `connection: close`, which the handler sets to stop a client from sending a
 *   body nobody will read, becomes what HTTP/2 says for that: once the answer is complete, the stream is reset with
 *   NO_ERROR (RFC 9113 §8.1) — the connection and its other streams live on.
 */
export function asHttp1Exchange(request: Http2ServerRequest, response: Http2ServerResponse): { request: IncomingMessage; response: ServerResponse } {
  const { headers } = request;
  const authority = headers[':authority'];
  if (headers.host === undefined && typeof authority === 'string') headers.host = authority;
  for (const name of Object.keys(headers)) {
    if (name.startsWith(':')) Object.defineProperty(headers, name, { enumerable: false });
  }

  let resetWhenDone = false;
  const setHeader = response.setHeader.bind(response);
  response.setHeader = (name: string, value: number | string | readonly string[]) => {
    if (!isHopByHop(name.toLowerCase())) setHeader(name, value);
    else if (name.toLowerCase() === 'connection' && /(^|,)\s*close\s*($|,)/i.test(String(value))) resetWhenDone = true;
  };
  const writeHead = response.writeHead.bind(response) as (statusCode: number, headers?: OutgoingHttpHeaders) => Http2ServerResponse;
  response.writeHead = ((statusCode: number, reasonOrHeaders?: string | OutgoingHttpHeaders, maybeHeaders?: OutgoingHttpHeaders) => {
    // HTTP/2 has no reason phrase.
    const given = typeof reasonOrHeaders === 'string' ? maybeHeaders : reasonOrHeaders;
    return writeHead(statusCode, given === undefined ? undefined : withoutHopByHop(given));
  }) as Http2ServerResponse['writeHead'];
  response.once('finish', () => {
    if (resetWhenDone && !request.complete && !response.stream.closed) response.stream.close(http2Constants.NGHTTP2_NO_ERROR);
  });
  // The two APIs agree on everything the handler uses (see above); the types do not say so.
  return { request: request as unknown as IncomingMessage, response: response as unknown as ServerResponse };
}

function withoutHopByHop(headers: OutgoingHttpHeaders): OutgoingHttpHeaders {
  return Object.fromEntries(Object.entries(headers).filter(([name]) => !isHopByHop(name.toLowerCase())));
}
