import { once } from 'node:events';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { Failure, networkReason } from './errors.js';
import { httpFetch, send } from './http.js';

interface Heard {
  method: string;
  url: string;
  headers: IncomingMessage['headers'];
  body: string;
}

const servers: Server[] = [];

async function serve(answer: (heard: Heard, response: ServerResponse) => void): Promise<{ url: string; heard: Heard[] }> {
  const heard: Heard[] = [];
  const server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      const one = { method: request.method ?? '', url: request.url ?? '', headers: request.headers, body: Buffer.concat(chunks).toString() };
      heard.push(one);
      answer(one, response);
    });
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  servers.push(server);
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, heard };
}

afterEach(async () => {
  for (const server of servers.splice(0)) {
    server.closeAllConnections();
    server.close();
  }
});

describe('httpFetch', () => {
  it('sends the method, headers and body, and reads the status and the whole answer', async () => {
    const server = await serve((_heard, response) => {
      response.writeHead(201, { 'content-type': 'application/json' });
      response.write('{"answer":');
      response.end('"é"}');
    });
    const answer = await httpFetch(`${server.url}/path?q=1`, { method: 'POST', headers: { authorization: 'Bearer t', 'content-type': 'application/json' }, body: '{"a":1}' });
    expect(answer).toMatchObject({ ok: true, status: 201 });
    expect(JSON.parse(await answer.text())).toEqual({ answer: 'é' });
    expect(server.heard).toEqual([expect.objectContaining({ method: 'POST', url: '/path?q=1', body: '{"a":1}', headers: expect.objectContaining({ authorization: 'Bearer t' }) })]);
  });

  it('answers a refusal as it is, not ok', async () => {
    const server = await serve((_heard, response) => {
      response.writeHead(403);
      response.end('<Error><Code>AccessDenied</Code></Error>');
    });
    const answer = await httpFetch(server.url, {});
    expect(answer).toMatchObject({ ok: false, status: 403 });
    expect(await answer.text()).toBe('<Error><Code>AccessDenied</Code></Error>');
  });

  it('follows no redirect: the token stays with the host it was sent to', async () => {
    const elsewhere = await serve((_heard, response) => response.end('{}'));
    const server = await serve((_heard, response) => {
      response.writeHead(307, { location: `${elsewhere.url}/steal` });
      response.end();
    });
    const answer = await httpFetch(server.url, { method: 'POST', headers: { authorization: 'Bearer t' }, body: 'WebIdentityToken=secret' });
    expect(answer).toMatchObject({ ok: false, status: 307 });
    expect(elsewhere.heard).toEqual([]);
  });

  it('gives up when its signal says so, which reads as no answer in time', async () => {
    const server = await serve(() => {});
    const failure = await httpFetch(server.url, { signal: AbortSignal.timeout(50) }).catch((error: unknown) => error);
    expect(networkReason(failure)).toBe('no answer in time');
  });

  it('names the system error when nothing listens', async () => {
    const server = await serve(() => {});
    const url = server.url;
    await new Promise((resolve) => servers.pop()!.close(resolve));
    const failure = await send(httpFetch, `${url}/x`, {}, 'Airlock').catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(Failure);
    expect((failure as Failure).message).toBe(`cannot reach Airlock at ${url}: ECONNREFUSED`);
  });
});
