/**
 * Credential vending against a real STS API: moto in server mode, started on a free port for this file.
 * Airlock's own identity comes from the SDK default chain, fed here by environment variables.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CreateRoleCommand, IAMClient } from '@aws-sdk/client-iam';
import { GetCallerIdentityCommand, STSClient } from '@aws-sdk/client-sts';
import type { CredentialVendingServiceService, VendRequest } from '@airlock/contracts';
import { createLogger } from '@airlock/logging';
import { bindInProcess, type ServiceClient } from '@airlock/transport';
import { createCredentialVendingService } from './service.js';
import { createAwsSts, type Sts } from './sts.js';
import { freePort, startMoto, type Peer } from '../../../tests/support/peers.js';

const region = 'us-east-1';
const logger = createLogger({ service: 'credential-vending', level: 'silent' });

function countingSts(inner: Sts): Sts & { calls: number; close(): void } {
  const counted = {
    calls: 0,
    assumeRole: (...args: Parameters<Sts['assumeRole']>) => {
      counted.calls++;
      return inner.assumeRole(...args);
    },
    close: () => inner.close?.(),
  };
  return counted;
}

describe('credential vending against moto', () => {
  let moto: Peer;
  let roleArn: string;
  const savedEnv = { ...process.env };

  beforeAll(async () => {
    // The default credential chain reads these; nothing passes keys to the service.
    process.env.AWS_ACCESS_KEY_ID = 'test';
    process.env.AWS_SECRET_ACCESS_KEY = 'test';
    process.env.AWS_REGION = region;
    delete process.env.AWS_SESSION_TOKEN;
    delete process.env.AWS_PROFILE;
    moto = await startMoto();
    const iam = new IAMClient({ region, endpoint: moto.url });
    const created = await iam.send(
      new CreateRoleCommand({
        RoleName: 'agent-reader',
        AssumeRolePolicyDocument: JSON.stringify({
          Version: '2012-10-17',
          Statement: [{ Effect: 'Allow', Principal: { AWS: 'arn:aws:iam::123456789012:root' }, Action: ['sts:AssumeRole', 'sts:TagSession', 'sts:SetSourceIdentity'] }],
        }),
      }),
    );
    iam.destroy();
    roleArn = created.Role!.Arn!;
  });

  afterAll(async () => {
    await moto?.stop();
    process.env = savedEnv;
  });

  const request = (subject = 'alice@example.com'): VendRequest => ({
    principal: { subject, issuer: 'https://idp.example', groups: [], sessionId: 'a1b2c3', name: '' },
    roleArn,
    sessionPolicy: '',
    maxDurationSeconds: 0,
    approvalId: '',
    region,
    notAfterMs: 0,
  });

  /** The service with a call-counting wrapper around the same SDK-backed STS it builds for itself. */
  async function vendingClient() {
    const sts = countingSts(createAwsSts({ region, endpoint: moto.url }));
    const runtime = await createCredentialVendingService({ region, endpoint: moto.url, durationSeconds: 900, logger, sts });
    const client: ServiceClient<typeof CredentialVendingServiceService> = bindInProcess(runtime.definition, runtime.implementation);
    const close = async () => {
      await runtime.close();
      sts.close();
    };
    return { client, sts, close };
  }

  it('vends credentials that act as the assumed role, named after the caller', async () => {
    // No STS passed in: the service builds its own client on the default credential chain.
    const runtime = await createCredentialVendingService({ region, endpoint: moto.url, durationSeconds: 900, logger });
    const { credentials } = await bindInProcess(runtime.definition, runtime.implementation).vend(request());
    await runtime.close();
    expect(credentials?.accessKeyId).toMatch(/^ASIA/);
    expect(credentials?.expirationMs).toBeGreaterThan(Date.now());

    const asRole = new STSClient({
      region,
      endpoint: moto.url,
      credentials: { accessKeyId: credentials!.accessKeyId, secretAccessKey: credentials!.secretAccessKey, sessionToken: credentials!.sessionToken },
    });
    const identity = await asRole.send(new GetCallerIdentityCommand({}));
    asRole.destroy();
    expect(identity.Arn).toBe('arn:aws:sts::123456789012:assumed-role/agent-reader/airlock-alice@example.com');
  });

  it('serves a repeated request from the cache with identical credentials', async () => {
    const { client, sts, close } = await vendingClient();
    const first = await client.vend(request());
    const second = await client.vend(request());
    await close();
    expect(second).toEqual(first);
    expect(sts.calls).toBe(1);
  });

  it('answers 20 concurrent identical requests with one AssumeRole', async () => {
    const { client, sts, close } = await vendingClient();
    const answers = await Promise.all(Array.from({ length: 20 }, () => client.vend(request('bob'))));
    await close();
    expect(sts.calls).toBe(1);
    expect(new Set(answers.map((answer) => answer.credentials?.accessKeyId)).size).toBe(1);
  });

  it('vends separately for another caller', async () => {
    const { client, sts, close } = await vendingClient();
    const alice = await client.vend(request('alice'));
    const carol = await client.vend(request('carol'));
    await close();
    expect(sts.calls).toBe(2);
    expect(carol.credentials?.accessKeyId).not.toBe(alice.credentials?.accessKeyId);
  });

  it('reports STS as unreachable when nothing listens at the endpoint', async () => {
    const closedPort = await freePort();
    const runtime = await createCredentialVendingService({ region, endpoint: `http://127.0.0.1:${closedPort}`, durationSeconds: 900, logger });
    const client = bindInProcess(runtime.definition, runtime.implementation);
    const error = await client.vend(request()).catch((caught: unknown) => caught);
    await runtime.close();
    expect(error).toMatchObject({ code: 'DependencyUnavailable' });
    expect((error as Error).message).toContain('STS is unreachable');
  });
});
