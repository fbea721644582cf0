import { connect, createServer, type Socket } from 'node:net';
import { freePort } from './peers.js';

export interface TcpRelay {
  url: string;
  port: number;
  /** Drops every open connection and refuses new ones (they are reset at once) until restore(). */
  cut(): void;
  restore(): void;
  stop(): Promise<void>;
}

/**
 * A TCP relay in front of a real server, to make it fail for a while without stopping it: cut() acts like a network
 * partition (connections reset), restore() heals it. The server behind it keeps its state throughout.
 */
export async function startTcpRelay(targetPort: number, targetHost = '127.0.0.1'): Promise<TcpRelay> {
  const port = await freePort();
  const open = new Set<Socket>();
  let partitioned = false;
  const server = createServer((client) => {
    if (partitioned) {
      client.resetAndDestroy();
      return;
    }
    const upstream = connect({ host: targetHost, port: targetPort });
    open.add(client);
    open.add(upstream);
    const close = () => {
      open.delete(client);
      open.delete(upstream);
      client.destroy();
      upstream.destroy();
    };
    client.on('error', close).on('close', close);
    upstream.on('error', close).on('close', close);
    client.pipe(upstream);
    upstream.pipe(client);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => resolve());
  });
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    cut() {
      partitioned = true;
      for (const socket of open) socket.resetAndDestroy();
      open.clear();
    },
    restore() {
      partitioned = false;
    },
    async stop() {
      for (const socket of open) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
