import { UsageError } from '../people/errors.js';
import { httpFetch } from '../people/http.js';
import { parseOptions } from './args.js';

/** Exit 0 when the edge answers HTTP 200, or a service's gRPC health check says SERVING; 1 otherwise. */
export async function probe(argv: string[]): Promise<number> {
  const { values } = parseOptions(argv, {
    http: { type: 'string' },
    grpc: { type: 'string' },
    service: { type: 'string' },
    timeout: { type: 'string' },
  });
  const timeoutMs = Number(values.timeout ?? 2_000);
  if ((values.http === undefined) === (values.grpc === undefined)) throw new UsageError('give either --http URL or --grpc HOST:PORT');
  if (!(timeoutMs > 0)) throw new UsageError('--timeout takes a positive number of milliseconds');
  try {
    if (values.http !== undefined) {
      const response = await httpFetch(values.http, { signal: AbortSignal.timeout(timeoutMs) });
      if (response.ok) return 0;
      console.error(`${values.http}: HTTP ${response.status}`);
      return 1;
    }
    // Loaded here: an HTTP probe, which a kubelet may run every few seconds, has no use for gRPC.
    const { createGrpcClient, HealthService } = await import('@airlock/transport');
    const { client, close } = createGrpcClient(HealthService, { address: values.grpc!, serviceName: values.grpc!, defaultTimeoutMs: timeoutMs });
    try {
      const { status } = await client.check({ service: values.service ?? '' });
      if (status === 'SERVING') return 0;
      console.error(`${values.grpc}: ${status}`);
      return 1;
    } finally {
      close();
    }
  } catch (error) {
    console.error(error instanceof Error ? error.message : String(error));
    return 1;
  }
}
