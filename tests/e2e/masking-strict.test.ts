import { randomBytes } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';
import { CreateSecretCommand, GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { AssumeRoleWithWebIdentityCommand, STSClient } from '@aws-sdk/client-sts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startDistributedAirlock, type DistributedAirlock } from '../support/airlock.js';
import { createAwsWorld, type AwsWorld } from '../support/aws-world.js';
import { startIdp } from '../support/idp.js';
import { startNats, startRedis, type Peer } from '../support/peers.js';

/**
 * Strict masking (masking.failure: strict, the default) in distributed mode: with the masking service stopped, an
 * answer that needs masking is withheld — the client gets a retryable ServiceUnavailable and never an unmasked
 * byte — and answers flow again once the service is back.
 */

const repoRoot = fileURLToPath(new URL('../..', import.meta.url));
const region = 'us-east-1';
const password = 'Vq7!zL2#pX9mW4rT-strict';

describe('strict masking with the masking service down (distributed mode)', () => {
  let world: AwsWorld;
  let idp: Awaited<ReturnType<typeof startIdp>>;
  let peers: Peer[] = [];
  let airlock: DistributedAirlock;
  let secrets: SecretsManagerClient;

  beforeAll(async () => {
    let nats: Peer;
    let redis: Peer;
    [world, idp, nats, redis] = await Promise.all([
      createAwsWorld({ rolePolicy: { Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: '*', Resource: '*' }] } }),
      startIdp({ audience: 'airlock' }),
      startNats(),
      startRedis(),
    ]);
    peers = [nats, redis];
    airlock = await startDistributedAirlock({
      config: {
        identity: { issuers: [{ issuer: idp.issuer, audience: 'airlock' }] },
        upstream: { endpoint: world.moto.url },
        policy: { files: [join(repoRoot, 'tests/support/allow-every-call.cedar')] },
        edge: { allowedRegions: [region], dependencyTimeoutMs: 2_000 },
        drivers: {
          bus: { kind: 'nats', servers: [nats.url] },
          state: { kind: 'redis', url: redis.url },
          blob: { kind: 's3', bucket: 'airlock-recordings', endpoint: world.moto.url, forcePathStyle: true },
        },
        logging: { level: 'info' },
      },
      env: { ...world.vendingEnv, AIRLOCK_SESSION_KEYS: `strict-1:${randomBytes(32).toString('base64')}` },
    });
    const { Credentials } = await new STSClient({ region, endpoint: airlock.url }).send(
      new AssumeRoleWithWebIdentityCommand({ RoleArn: world.roleArn, RoleSessionName: 'strict', WebIdentityToken: await idp.issueToken({ clientId: 'masking-strict' }) }),
    );
    secrets = new SecretsManagerClient({
      region,
      endpoint: airlock.url,
      maxAttempts: 1,
      credentials: { accessKeyId: Credentials!.AccessKeyId!, secretAccessKey: Credentials!.SecretAccessKey!, sessionToken: Credentials!.SessionToken! },
    });
  }, 180_000);

  afterAll(async () => {
    secrets?.destroy();
    await airlock?.stop();
    await Promise.all([world?.stop(), idp?.stop(), ...peers.map((peer) => peer.stop())]);
  });

  it('withholds answers while masking is down, never sending them unmasked, and serves them masked again after', async () => {
    await secrets.send(new CreateSecretCommand({ Name: 'strict/db', SecretString: JSON.stringify({ password }) }));
    expect((await secrets.send(new GetSecretValueCommand({ SecretId: 'strict/db' }))).SecretString).toBe('[MASKED:secret-string]');

    await airlock.stopService('masking');
    for (let attempt = 0; attempt < 3; attempt++) {
      const refused = await secrets.send(new GetSecretValueCommand({ SecretId: 'strict/db' })).then(
        (answer) => answer as unknown,
        (error: unknown) => error as { name?: string; message?: string; $metadata?: { httpStatusCode?: number } },
      );
      expect(refused).toMatchObject({ name: 'ServiceUnavailable', $metadata: { httpStatusCode: 503 }, message: expect.stringContaining('withheld') });
      expect(JSON.stringify(refused)).not.toContain(password);
    }

    await airlock.restart('masking');
    let served: string | undefined;
    for (let attempt = 0; attempt < 60 && served === undefined; attempt++) {
      served = await secrets.send(new GetSecretValueCommand({ SecretId: 'strict/db' })).then(
        (answer) => answer.SecretString,
        () => undefined,
      );
      if (served === undefined) await new Promise((resolve) => setTimeout(resolve, 500));
    }
    expect(served).toBe('[MASKED:secret-string]');
    expect(airlock.output()).not.toContain(password);
  }, 120_000);
});
