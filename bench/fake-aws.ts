import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface FakeAws {
  url: string;
  /** AssumeRole calls answered, to count what credential vending costs. */
  assumeRoleCalls(): number;
  stop(): Promise<void>;
}

export interface Arrival {
  method: string;
  /** Path and query, as sent. */
  url: string;
  /** performance.now() in this process when the request's head arrived: comparable with the bench's own clock. */
  atMs: number;
}

/**
 * The fastest possible stand-in for AWS: it answers STS AssumeRole and any S3 HEAD (HeadObject, HeadBucket) from
 * constants, without checking signatures, so that what a benchmark measures on top of it is the client's and
 * Airlock's own cost. `onArrival` hears of every request the moment it arrives.
 */
export async function startFakeAws(options: { onArrival?: (arrival: Arrival) => void } = {}): Promise<FakeAws> {
  let assumeRoleCalls = 0;
  const server = createServer((request, response) => {
    options.onArrival?.({ method: request.method ?? '', url: request.url ?? '', atMs: performance.now() });
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      const body = Buffer.concat(chunks).toString();
      if (request.method === 'POST' && body.includes('Action=AssumeRole')) {
        assumeRoleCalls++;
        const expiration = new Date(Date.now() + 3600_000).toISOString();
        response.writeHead(200, { 'content-type': 'text/xml' });
        response.end(
          `<AssumeRoleResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><AssumeRoleResult><Credentials><AccessKeyId>ASIAFAKEFAKEFAKEFAKE</AccessKeyId><SecretAccessKey>fakefakefakefakefakefakefakefakefakefake</SecretAccessKey><SessionToken>fake-session-token</SessionToken><Expiration>${expiration}</Expiration></Credentials><AssumedRoleUser><Arn>arn:aws:sts::123456789012:assumed-role/agent/bench</Arn><AssumedRoleId>AROAFAKE:bench</AssumedRoleId></AssumedRoleUser></AssumeRoleResult><ResponseMetadata><RequestId>bench</RequestId></ResponseMetadata></AssumeRoleResponse>`,
        );
        return;
      }
      if (request.method === 'HEAD') {
        response.writeHead(200, {
          'content-type': 'application/octet-stream',
          'content-length': '1024',
          etag: '"0f343b0931126a20f133d67c2b018a3b"',
          'last-modified': 'Thu, 26 Nov 2026 00:00:00 GMT',
          'x-amz-request-id': 'bench',
        });
        response.end();
        return;
      }
      response.writeHead(404, { 'content-type': 'application/xml' });
      response.end('<Error><Code>NoSuchKey</Code><Message>not here</Message></Error>');
    });
  });
  server.keepAliveTimeout = 60_000;
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    assumeRoleCalls: () => assumeRoleCalls,
    stop: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
