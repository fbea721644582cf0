import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { PassThrough } from 'node:stream';
import { afterEach, describe, expect, it } from 'vitest';
import { createLogger } from '@airlock/logging';
import { contextFrom, inSpan, startTracing, traceHeaders, type RunningTracing } from './tracing.js';

/** A stand-in collector: counts the OTLP/HTTP export requests it is sent. */
async function startCollector(): Promise<{ url: string; exports: () => number; server: Server }> {
  let exports = 0;
  const server = createServer((request, response) => {
    request.resume();
    request.on('end', () => {
      exports += 1;
      response.writeHead(200, { 'content-type': 'application/json' }).end('{}');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1/traces`, exports: () => exports, server };
}

const traceparent = /^00-([0-9a-f]{32})-([0-9a-f]{16})-(0[01])$/;

describe('tracing', () => {
  let tracing: RunningTracing | undefined;
  afterEach(async () => {
    await tracing?.shutdown();
    tracing = undefined;
  });

  it('without an exporter records no span, yet every span has ids that logs and traceparent carry', async () => {
    tracing = await startTracing({ serviceName: 'test', sampleRatio: 1 });
    const destination = new PassThrough();
    const lines: string[] = [];
    destination.on('data', (chunk: Buffer) => lines.push(...chunk.toString().split('\n').filter(Boolean)));
    const logger = createLogger({ service: 'test', destination });
    const seen = await inSpan('edge call', {}, async (root) => {
      logger.info('in the call');
      const sent = traceHeaders().traceparent ?? '';
      const child = await inSpan('upstream', {}, async (span) => span.spanContext());
      return { root: root.spanContext(), recording: root.isRecording(), sent, child };
    });
    expect(seen.recording).toBe(false);
    expect(seen.root.traceId).toMatch(/^(?!0+$)[0-9a-f]{32}$/);
    expect(seen.sent.match(traceparent)?.slice(1)).toEqual([seen.root.traceId, seen.root.spanId, '00']);
    expect(seen.child.traceId).toBe(seen.root.traceId);
    expect(seen.child.spanId).not.toBe(seen.root.spanId);
    expect(JSON.parse(lines[0]!)).toMatchObject({ msg: 'in the call', traceId: seen.root.traceId, spanId: seen.root.spanId });
    // A peer's trace is continued, unrecorded, under its trace id.
    const peer = '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01';
    const continued = await inSpan('served', { parent: contextFrom({ traceparent: peer }) }, async (span) => span.spanContext().traceId);
    expect(continued).toBe('0af7651916cd43dd8448eb211c80319c');
  });

  it('with an exporter records sampled spans and exports them', async () => {
    const collector = await startCollector();
    try {
      tracing = await startTracing({ serviceName: 'test', otlpEndpoint: collector.url, sampleRatio: 1 });
      const recording = await inSpan('edge call', {}, async (span) => {
        expect(traceHeaders().traceparent).toMatch(/-01$/);
        return span.isRecording();
      });
      expect(recording).toBe(true);
      await tracing.shutdown();
      tracing = undefined;
      expect(collector.exports()).toBe(1);
    } finally {
      collector.server.close();
    }
  });
});
