import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ListBucketsCommand } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { assumeThroughAirlock, s3ThroughAirlock } from '../support/agent-credentials.js';
import { startEmbeddedAirlock, type AirlockUnderTest } from '../support/airlock.js';
import { createAwsWorld, type AwsWorld } from '../support/aws-world.js';
import { startIdp } from '../support/idp.js';
import { startNats, type Peer } from '../support/peers.js';

const repoRoot = fileURLToPath(new URL('../..', import.meta.url));

describe('strict recording (edge.recording: strict)', () => {
  let world: AwsWorld;
  let idp: Awaited<ReturnType<typeof startIdp>>;
  let nats: Peer;
  let natsStore: string;
  let airlock: AirlockUnderTest;

  beforeAll(async () => {
    natsStore = await mkdtemp(join(tmpdir(), 'airlock-strict-nats-'));
    [world, idp, nats] = await Promise.all([createAwsWorld(), startIdp({ audience: 'airlock', groups: ['engineers'] }), startNats({ storeDir: natsStore })]);
    airlock = await startEmbeddedAirlock({
      config: {
        identity: { issuers: [{ issuer: idp.issuer, audience: 'airlock' }] },
        upstream: { endpoint: world.moto.url },
        policy: { files: [join(repoRoot, 'policies/default.cedar')] },
        edge: { allowedRegions: ['us-east-1'], recording: 'strict', dependencyTimeoutMs: 2_000 },
        drivers: { bus: { kind: 'nats', servers: [nats.url] } },
        logging: { level: 'info' },
      },
      env: { ...world.vendingEnv, AIRLOCK_SESSION_KEYS: `test-1:${randomBytes(32).toString('base64')}` },
    });
  });

  afterAll(async () => {
    await airlock?.stop();
    await Promise.all([world?.stop(), idp?.stop(), nats?.stop()]);
    await rm(natsStore, { recursive: true, force: true });
  });

  it('says so at start, refuses calls with ServiceUnavailable while nats-server is down, and serves again when it returns', async () => {
    expect(airlock.output()).toContain('session recording is strict');
    const s3 = s3ThroughAirlock(airlock.url, await assumeThroughAirlock(airlock.url, world.roleArn, await idp.issueToken(), 'strict'));
    await s3.send(new ListBucketsCommand({}));

    await nats.stop();
    const refused = await s3.send(new ListBucketsCommand({})).catch((error: unknown) => error as { name?: string; $metadata?: { httpStatusCode?: number }; message?: string });
    expect(refused).toMatchObject({ name: 'ServiceUnavailable', $metadata: { httpStatusCode: 503 } });
    expect((refused as { message?: string }).message).toContain('not forwarded');

    nats = await startNats({ storeDir: natsStore, port: nats.port });
    let served = false;
    for (let attempt = 0; attempt < 60 && !served; attempt++) {
      served = await s3.send(new ListBucketsCommand({})).then(
        () => true,
        () => false,
      );
      if (!served) await new Promise((resolve) => setTimeout(resolve, 500));
    }
    expect(served).toBe(true);
  });
});
