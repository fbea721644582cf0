import { createServer, request as httpRequest, Agent, type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';

/** One exchange as it passed the relay: the request's head, and both bodies up to `bodyLimit` bytes each. */
export interface RelayedRequest {
  method: string;
  path: string;
  headers: IncomingHttpHeaders;
  body: string;
  status?: number;
  answer: string;
}

export interface RecordingRelay {
  url: string;
  /** Every request that passed, in arrival order. */
  requests(): RelayedRequest[];
  /** The parameters of every STS AssumeRole (query protocol: a form body) that passed. */
  assumeRoles(): URLSearchParams[];
  /** The access key id each request was signed with (SigV4 header or presigned query), where there is one. */
  signingKeyIds(): string[];
  /** While on, each request's connection is closed unanswered and nothing is forwarded: an outage, as a client sees one. */
  refuse(on: boolean): void;
  stop(): Promise<void>;
}

const bodyLimit = 64 * 1024;

/** Keeps the first `bodyLimit` bytes of a stream that flows on elsewhere, and hands them over at its end. */
function keepHead(stream: NodeJS.ReadableStream, done: (text: string) => void): void {
  const chunks: Buffer[] = [];
  let kept = 0;
  stream.on('data', (chunk: Buffer) => {
    if (kept >= bodyLimit) return;
    chunks.push(chunk.subarray(0, bodyLimit - kept));
    kept += Math.min(chunk.length, bodyLimit - kept);
  });
  stream.on('end', () => done(Buffer.concat(chunks).toString('utf8')));
}

/**
 * A real HTTP relay in front of an upstream (moto): it forwards every request unchanged, streaming, and remembers what
 * passed. The Host header goes on as the client sent it, so SigV4 signatures made for the relay's address still verify
 * upstream. Tests count and read calls at the relay: what Airlock really sent, not what it meant to send.
 */
export async function startRecordingRelay(upstream: string): Promise<RecordingRelay> {
  const target = new URL(upstream);
  const agent = new Agent({ keepAlive: true });
  const passed: RelayedRequest[] = [];
  let refusing = false;
  const server = createServer((incoming, outgoing) => {
    if (refusing) {
      incoming.socket.destroy();
      return;
    }
    const seen: RelayedRequest = { method: incoming.method ?? 'GET', path: incoming.url ?? '/', headers: incoming.headers, body: '', answer: '' };
    passed.push(seen);
    const forwarded = httpRequest(
      { host: target.hostname, port: target.port, method: incoming.method, path: incoming.url, headers: incoming.headers, agent },
      (answer) => {
        seen.status = answer.statusCode;
        outgoing.writeHead(answer.statusCode ?? 502, answer.headers);
        keepHead(answer, (text) => (seen.answer = text));
        answer.pipe(outgoing);
      },
    );
    forwarded.on('error', () => outgoing.destroy());
    keepHead(incoming, (text) => (seen.body = text));
    incoming.pipe(forwarded);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  const isForm = (seen: RelayedRequest) => (seen.headers['content-type'] ?? '').startsWith('application/x-www-form-urlencoded');
  return {
    url: `http://127.0.0.1:${port}`,
    requests: () => [...passed],
    assumeRoles: () =>
      passed.filter(isForm).map((seen) => new URLSearchParams(seen.body)).filter((form) => form.get('Action') === 'AssumeRole'),
    signingKeyIds: () =>
      passed.flatMap((seen) => {
        const header = /Credential=([^/,\s]+)\//.exec(String(seen.headers.authorization ?? ''))?.[1];
        const query = new URL(seen.path, 'http://relay').searchParams.get('X-Amz-Credential')?.split('/')[0];
        const id = header ?? query;
        return id ? [id] : [];
      }),
    refuse(on) {
      refusing = on;
      // Kept-alive connections would otherwise carry on past the refusal.
      if (on) server.closeIdleConnections();
    },
    async stop() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      agent.destroy();
    },
  };
}
