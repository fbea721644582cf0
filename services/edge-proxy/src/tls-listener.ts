import { createServer as createNetServer, type Server, type Socket } from 'node:net';
import { createServer as createTlsServer } from 'node:tls';
import type { Logger } from '@airlock/logging';
import { watchTlsFiles, type TlsFiles } from '@airlock/transport';

/**
 * The edge's listening socket: plain TCP, or TLS when `tls` names a certificate and key (edge.tls). TLS offers
 * HTTP/2 and HTTP/1.1 by ALPN; either way each connection reaches `onConnection` decrypted, to be routed by its
 * first bytes like a plain one. The files are watched: a rotated certificate serves every connection accepted after
 * it is written, with no restart and no dropped connection.
 */
export function createEdgeListener(tls: TlsFiles | undefined, logger: Logger, onConnection: (socket: Socket) => void): Server {
  if (!tls) return createNetServer(onConnection);
  const files = watchTlsFiles({ certFile: tls.certFile, keyFile: tls.keyFile }, (error) =>
    logger.warn({ err: error }, 'edge TLS files changed but do not load; the previous certificate stays in force'),
  );
  const { cert, key } = files.current();
  const server = createTlsServer({ cert, key, ALPNProtocols: ['h2', 'http/1.1'] }, onConnection);
  files.onChange((material) => {
    server.setSecureContext({ cert: material.cert, key: material.key });
    logger.info({ certFile: tls.certFile }, 'edge TLS certificate reloaded');
  });
  // A failed handshake is the client's problem (wrong CA, plain HTTP on the TLS port); it never reaches a handler.
  server.on('tlsClientError', (error) => logger.debug({ err: error }, 'TLS handshake failed'));
  server.once('close', () => files.close());
  return server;
}
