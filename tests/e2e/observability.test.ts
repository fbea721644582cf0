import { randomBytes } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { CreateBucketCommand, GetObjectCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { AssumeRoleWithWebIdentityCommand, STSClient } from '@aws-sdk/client-sts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startDistributedAirlock, type DistributedAirlock } from '../support/airlock.js';
import { createAwsWorld, type AwsWorld } from '../support/aws-world.js';
import { startIdp, type TestIdp } from '../support/idp.js';
import { freePort, startNats, startRedis, type Peer } from '../support/peers.js';

const repoRoot = fileURLToPath(new URL('../..', import.meta.url));
const bucket = 'observability-e2e';
const leakedKey = 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY';

/** One span as OTLP/HTTP JSON carries it, with its process's service.name. */
interface ExportedSpan {
  service: string;
  traceId: string;
  spanId: string;
  parentSpanId?: string;
  name: string;
  attributes: Record<string, string | number>;
  links: { traceId: string; spanId: string }[];
}

interface OtlpAttribute {
  key: string;
  value: { stringValue?: string; intValue?: string | number; boolValue?: boolean };
}
interface OtlpBody {
  resourceSpans?: {
    resource?: { attributes?: OtlpAttribute[] };
    scopeSpans?: { spans?: (Omit<ExportedSpan, 'service' | 'attributes'> & { attributes?: OtlpAttribute[] })[] }[];
  }[];
}

const attributesOf = (list: OtlpAttribute[] = []) =>
  Object.fromEntries(list.map(({ key, value }) => [key, value.stringValue ?? Number(value.intValue ?? Number.NaN)]));

/** A stand-in OpenTelemetry collector: takes OTLP/HTTP JSON at /v1/traces and keeps every span. */
async function startCollector(): Promise<{ url: string; spans: ExportedSpan[]; server: Server }> {
  const spans: ExportedSpan[] = [];
  const server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      const body = JSON.parse(Buffer.concat(chunks).toString() || '{}') as OtlpBody;
      for (const resourceSpans of body.resourceSpans ?? []) {
        const service = String(attributesOf(resourceSpans.resource?.attributes)['service.name']);
        for (const scope of resourceSpans.scopeSpans ?? []) {
          for (const span of scope.spans ?? []) spans.push({ ...span, service, attributes: attributesOf(span.attributes), links: span.links ?? [] });
        }
      }
      response.writeHead(200, { 'content-type': 'application/json' }).end('{}');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1/traces`, spans, server };
}

/**
 * What an operator sees of a distributed Airlock: Prometheus metrics from every process, one trace per call across
 * the edge, the services it calls over gRPC and the recorder that consumes its events from NATS, and log lines that
 * name the call they belong to and hold no secret.
 */
describe('observability: metrics, traces across gRPC and NATS, structured logs', () => {
  let world: AwsWorld;
  let idp: TestIdp;
  let peers: Peer[] = [];
  let collector: Awaited<ReturnType<typeof startCollector>>;
  let airlock: DistributedAirlock;
  const metricsPorts: Record<string, number> = {};
  const secrets: string[] = [leakedKey];

  // Six processes start at once: a loaded two-core machine needs longer than the default hook timeout.
  beforeAll(async () => {
    const [nats, redis] = await Promise.all([startNats(), startRedis()]);
    peers = [nats, redis];
    [world, idp, collector] = await Promise.all([createAwsWorld(), startIdp({ audience: 'airlock' }), startCollector()]);
    for (const name of ['policy', 'credential-vending', 'masking', 'recorder']) metricsPorts[name] = await freePort();
    airlock = await startDistributedAirlock({
      config: {
        identity: { issuers: [{ issuer: idp.issuer, audience: 'airlock' }] },
        upstream: { endpoint: world.moto.url },
        policy: { files: [join(repoRoot, 'policies/default.cedar')] },
        edge: { allowedRegions: ['us-east-1'] },
        services: Object.fromEntries(Object.entries(metricsPorts).map(([name, port]) => [name, { metricsListen: `127.0.0.1:${port}` }])),
        tracing: { otlpEndpoint: collector.url },
        drivers: {
          bus: { kind: 'nats', servers: [nats.url] },
          state: { kind: 'redis', url: redis.url },
          blob: { kind: 's3', bucket: 'airlock-recordings', endpoint: world.moto.url, forcePathStyle: true },
        },
        logging: { level: 'debug' },
      },
      env: { ...world.vendingEnv, AIRLOCK_SESSION_KEYS: `test-1:${randomBytes(32).toString('base64')}` },
    });
    const token = await idp.issueToken({ clientId: 'observed-agent' });
    const sts = new STSClient({ region: 'us-east-1', endpoint: airlock.url, maxAttempts: 1 });
    const { Credentials: issued } = await sts.send(new AssumeRoleWithWebIdentityCommand({ RoleArn: world.roleArn, RoleSessionName: 'observed', WebIdentityToken: token }));
    const credentials = { accessKeyId: issued!.AccessKeyId!, secretAccessKey: issued!.SecretAccessKey!, sessionToken: issued!.SessionToken! };
    secrets.push(token, credentials.secretAccessKey, credentials.sessionToken);
    const s3 = new S3Client({ region: 'us-east-1', endpoint: airlock.url, forcePathStyle: true, credentials, maxAttempts: 1 });
    await s3.send(new CreateBucketCommand({ Bucket: bucket }));
    await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'config.json', ContentType: 'application/json', Body: JSON.stringify({ SecretAccessKey: leakedKey }) }));
    for (let read = 0; read < 3; read++) await (await s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'config.json' }))).Body!.transformToString();
  }, 300_000);

  afterAll(async () => {
    await airlock?.stop();
    collector?.server.close();
    await Promise.all([world?.stop(), idp?.stop(), ...peers.map((peer) => peer.stop())]);
  });

  const scrape = async (url: string) => (await fetch(url)).text();
  /** The value of one sample, by metric name and an exact label set as Prometheus prints it. */
  const sample = (text: string, series: string): number => {
    const line = text.split('\n').find((candidate) => candidate.startsWith(`${series} `));
    return line ? Number(line.slice(line.lastIndexOf(' ') + 1)) : 0;
  };
  const eventually = async <T>(find: () => Promise<T | undefined> | T | undefined): Promise<T> => {
    for (let round = 0; round < 300; round++) {
      const found = await find();
      if (found !== undefined) return found;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    throw new Error('not found in time');
  };

  it('exports Prometheus metrics from the edge and every service, with bounded labels', async () => {
    const edge = await scrape(`${airlock.opsUrl}/_airlock/metrics`);
    expect(sample(edge, 'airlock_edge_calls_total{aws_service="s3",operation="GetObject",decision="allow",outcome="ok"}')).toBe(3);
    expect(sample(edge, 'airlock_edge_calls_total{aws_service="s3",operation="PutObject",decision="allow",outcome="ok"}')).toBe(1);
    expect(sample(edge, 'airlock_edge_call_duration_seconds_count{aws_service="s3",decision="allow"}')).toBeGreaterThanOrEqual(5);
    expect(sample(edge, 'airlock_edge_upstream_duration_seconds_count{aws_service="s3"}')).toBeGreaterThanOrEqual(5);
    // At least one decision went over gRPC (the edge may reuse a decision for identical calls).
    expect(sample(edge, 'airlock_rpc_client_call_duration_seconds_count{method="airlock.v1.PolicyService/Decide"}')).toBeGreaterThanOrEqual(1);

    const policy = await scrape(`http://127.0.0.1:${metricsPorts.policy}/metrics`);
    expect(sample(policy, 'airlock_rpc_server_calls_total{method="airlock.v1.PolicyService/Decide",code="OK",transport="grpc"}')).toBeGreaterThanOrEqual(1);
    expect(policy).toContain('airlock_rpc_server_call_duration_seconds_bucket{le="0.005",method="airlock.v1.PolicyService/Decide",transport="grpc"}');

    const vending = await scrape(`http://127.0.0.1:${metricsPorts['credential-vending']}/metrics`);
    expect(sample(vending, 'airlock_sts_calls_total{outcome="ok"}')).toBe(1);
    expect(sample(vending, 'airlock_credential_cache_total{level="memory",result="hit"}')).toBeGreaterThanOrEqual(1);
    expect(sample(vending, 'airlock_credential_cache_total{level="memory",result="miss"}')).toBe(1);

    const masking = await scrape(`http://127.0.0.1:${metricsPorts.masking}/metrics`);
    expect(sample(masking, 'airlock_masking_bytes_total')).toBeGreaterThan(0);
    expect(masking).toMatch(/^airlock_masks_total\{kind="[a-z-]+"\} [1-9]/m);

    const recorded = await eventually(async () => {
      const recorder = await scrape(`http://127.0.0.1:${metricsPorts.recorder}/metrics`);
      return sample(recorder, 'airlock_recorder_events_written_total') >= 5 ? recorder : undefined;
    });
    expect(recorded).toMatch(/^airlock_recorder_lag_seconds \d/m);

    // No principal, role, bucket or key becomes a label value.
    for (const text of [edge, policy, vending, masking, recorded]) {
      expect(text).not.toContain(world.roleArn);
      expect(text).not.toContain('observed-agent');
      expect(text).not.toContain(bucket);
    }
  });

  it('traces a call from the edge through gRPC services and, by NATS headers, into the recorder', async () => {
    const edgeCall = await eventually(() =>
      collector.spans.find((span) => span.service === 'airlock-edge' && span.name === 'edge call' && span.attributes['aws.operation'] === 'PutObject'),
    );
    const inTrace = (service: string, name: string) =>
      eventually(() => collector.spans.find((span) => span.traceId === edgeCall.traceId && span.service === service && span.name === name));
    const decideClient = await inTrace('airlock-edge', 'airlock.v1.PolicyService/Decide');
    const decideServer = await inTrace('airlock-policy', 'airlock.v1.PolicyService/Decide');
    expect(decideClient.parentSpanId).toBe(edgeCall.spanId);
    expect(decideServer.parentSpanId).toBe(decideClient.spanId);
    await inTrace('airlock-credential-vending', 'airlock.v1.CredentialVendingService/Vend');
    await inTrace('airlock-edge', 'upstream');
    // The recorder consumes batches, so its span links to each call whose event it stored.
    const stored = await eventually(() =>
      collector.spans.find((span) => span.service === 'airlock-recorder' && span.links.some((link) => link.traceId === edgeCall.traceId)),
    );
    expect(stored.name).toBe('recorder store');
  });

  it('puts the request id and trace on every log line of a call, in every process, and no secret anywhere', async () => {
    const lines = airlock
      .output()
      .split('\n')
      .filter((line) => line.startsWith('{'))
      .map((line) => JSON.parse(line) as Record<string, unknown>);
    const vended = lines.filter((line) => line.service === 'credential-vending' && line.msg === 'credentials vended');
    expect(vended.length).toBeGreaterThan(0);
    // The call that vended: its edge span names the same request id, in the same trace.
    for (const line of vended) {
      expect(line.requestId).toEqual(expect.any(String));
      const call = await eventually(() =>
        collector.spans.find((span) => span.service === 'airlock-edge' && span.name === 'edge call' && span.attributes['airlock.request_id'] === line.requestId),
      );
      expect(line.traceId).toBe(call.traceId);
    }
    for (const secret of secrets) expect(airlock.output()).not.toContain(secret);
  });

  it('tells operators, on the operations listener only, what readiness rests on and what the metrics say', async () => {
    // The public port, which every agent reaches, has no metrics: the path is just an unsigned S3-style request there.
    const publicMetrics = await fetch(`${airlock.url}/_airlock/metrics`);
    expect(publicMetrics.status).toBe(403);
    const refusal = await publicMetrics.text();
    expect(refusal).toContain('<Code>MissingAuthenticationToken</Code>');
    expect(refusal).not.toContain('airlock_');
    expect(await scrape(`${airlock.opsUrl}/_airlock/metrics`)).toContain('airlock_edge_calls_total');

    await airlock.stopService('masking');
    const failing = await eventually(async () => {
      const response = await fetch(`${airlock.opsUrl}/_airlock/ready`);
      const report = (await response.json()) as { ready: boolean; failing: { name: string; reason: string }[] };
      return response.status === 503 ? report : undefined;
    });
    expect(failing).toMatchObject({ ready: false, state: 'running', failing: [{ name: 'masking', reason: expect.any(String) }] });
    // A load balancer learns that it must not send calls here, and nothing about what is behind the edge.
    const bare = await fetch(`${airlock.url}/_airlock/ready`);
    expect(bare.status).toBe(503);
    expect(await bare.json()).toEqual({ ready: false });
  });
});
