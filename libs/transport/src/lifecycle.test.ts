import { describe, expect, it } from 'vitest';
import { createGrpcClient } from './grpc-client.js';
import { startGrpcServer } from './grpc-server.js';
import { bindHealthService, grpcReadinessCheck, HealthService, livenessServiceName } from './health.js';
import { createLifecycle, type ReadinessCheck } from './runtime.js';

const passing = (name: string): ReadinessCheck => ({ name, check: async () => undefined });
const failing = (name: string, message: string): ReadinessCheck => ({
  name,
  check: async () => {
    throw new Error(message);
  },
});

describe('createLifecycle', () => {
  it('is ready while every check passes, and names each failing dependency with its reason', async () => {
    expect(await createLifecycle([passing('state'), passing('policy')]).readiness()).toEqual({ ready: true, state: 'running', failing: [] });
    const report = await createLifecycle([passing('state'), failing('policy', 'policy reports NOT_SERVING')]).readiness();
    expect(report).toEqual({ ready: false, state: 'running', failing: [{ name: 'policy', reason: 'policy reports NOT_SERVING' }] });
  });

  it('fails a check that never answers once its time is up, even when the check ignores its signal', async () => {
    const hung: ReadinessCheck = { name: 'state', check: () => new Promise<void>(() => undefined) };
    const report = await createLifecycle([hung], { timeoutMs: 50 }).readiness();
    expect(report.ready).toBe(false);
    expect(report.failing).toEqual([{ name: 'state', reason: 'no answer within 50 ms' }]);
  });

  it('is never ready once draining, whatever its dependencies say', async () => {
    const lifecycle = createLifecycle([passing('state')]);
    lifecycle.drain();
    expect(lifecycle.state).toBe('draining');
    expect(await lifecycle.readiness()).toEqual({ ready: false, state: 'draining', failing: [] });
  });

  it('shares one evaluation between concurrent probes and reuses it for cacheMs', async () => {
    let clock = 0;
    let runs = 0;
    const counted: ReadinessCheck = {
      name: 'state',
      check: async () => {
        runs++;
      },
    };
    const lifecycle = createLifecycle([counted], { cacheMs: 1_000, now: () => clock });
    await Promise.all([lifecycle.readiness(), lifecycle.readiness(), lifecycle.readiness()]);
    expect(runs).toBe(1);
    clock = 999;
    await lifecycle.readiness();
    expect(runs).toBe(1);
    clock = 1_000;
    await lifecycle.readiness();
    expect(runs).toBe(2);
  });
});

describe('gRPC health (grpc.health.v1 Check)', () => {
  it('follows readiness for the server and its services, keeps liveness SERVING while draining, and feeds a readiness check', async () => {
    const lifecycle = createLifecycle([]);
    const server = await startGrpcServer({ listen: '127.0.0.1:0', services: [bindHealthService(lifecycle, ['airlock.v1.PolicyService'])] });
    const { client, close } = createGrpcClient(HealthService, { address: `127.0.0.1:${server.port}`, serviceName: 'policy' });
    try {
      const status = async (service: string) => (await client.check({ service })).status;
      expect(await status('')).toBe('SERVING');
      expect(await status('airlock.v1.PolicyService')).toBe('SERVING');
      await expect(client.check({ service: 'airlock.v1.NoSuchService' })).rejects.toMatchObject({ code: 'NotFound' });
      await grpcReadinessCheck('policy', client).check(AbortSignal.timeout(2_000));

      lifecycle.drain();
      expect(await status('')).toBe('NOT_SERVING');
      expect(await status('readiness')).toBe('NOT_SERVING');
      expect(await status(livenessServiceName)).toBe('SERVING');
      await expect(grpcReadinessCheck('policy', client).check(AbortSignal.timeout(2_000))).rejects.toThrow('policy reports NOT_SERVING');
    } finally {
      close();
      await server.close();
    }
  });
});
