import { randomBytes, X509Certificate } from 'node:crypto';
import { copyFile, mkdtemp, readFile, rm } from 'node:fs/promises';
import { Agent } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect as tlsConnect } from 'node:tls';
import { fileURLToPath } from 'node:url';
import { CreateBucketCommand, GetObjectCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { AssumeRoleWithWebIdentityCommand, STSClient } from '@aws-sdk/client-sts';
import { credentials as grpcCredentials, type ChannelCredentials } from '@grpc/grpc-js';
import { NodeHttpHandler } from '@smithy/node-http-handler';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { Decision, PolicyServiceService } from '@airlock/contracts';
import { createGrpcClient } from '@airlock/transport';
import { startDistributedAirlock, type DistributedAirlock } from '../support/airlock.js';
import { createAwsWorld, type AwsWorld } from '../support/aws-world.js';
import { createCertificateAuthority, replaceFile, type CertificateAuthority, type IssuedCertificate } from '../support/certificates.js';
import { startIdp, type TestIdp } from '../support/idp.js';
import { startNats, startRedis, type Peer } from '../support/peers.js';

const repoRoot = fileURLToPath(new URL('../..', import.meta.url));
const bucket = 'mtls-e2e';

/**
 * Transport security with certificates made at test time: every service of a distributed Airlock talks gRPC over
 * mTLS, the edge serves HTTPS, and all of them read the same three files. A client without a certificate from the
 * CA is refused by the services; replacing the files rotates every process's certificates without a restart.
 */
describe('mTLS between services, TLS at the edge, rotation without restart', () => {
  let dir: string;
  let first: CertificateAuthority;
  let second: CertificateAuthority;
  let firstLeaf: IssuedCertificate;
  let secondLeaf: IssuedCertificate;
  let rogueLeaf: IssuedCertificate;
  const live = { caFile: '', certFile: '', keyFile: '' };
  let world: AwsWorld;
  let idp: TestIdp;
  let peers: Peer[] = [];
  let airlock: DistributedAirlock;
  let policyAddress: string;

  // Six processes start at once: a loaded two-core machine needs longer than the default hook timeout.
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'airlock-mtls-'));
    [first, second] = await Promise.all([createCertificateAuthority(dir, 'first'), createCertificateAuthority(dir, 'second')]);
    const rogue = await createCertificateAuthority(dir, 'rogue');
    [firstLeaf, secondLeaf, rogueLeaf] = await Promise.all([first.issue('airlock'), second.issue('airlock'), rogue.issue('intruder')]);
    Object.assign(live, { caFile: join(dir, 'ca.pem'), certFile: join(dir, 'tls.crt'), keyFile: join(dir, 'tls.key') });
    await Promise.all([copyFile(first.certFile, live.caFile), copyFile(firstLeaf.certFile, live.certFile), copyFile(firstLeaf.keyFile, live.keyFile)]);
    const [nats, redis] = await Promise.all([startNats(), startRedis()]);
    peers = [nats, redis];
    [world, idp] = await Promise.all([createAwsWorld(), startIdp({ audience: 'airlock' })]);
    airlock = await startDistributedAirlock({
      config: {
        identity: { issuers: [{ issuer: idp.issuer, audience: 'airlock' }] },
        upstream: { endpoint: world.moto.url },
        policy: { files: [join(repoRoot, 'policies/default.cedar')] },
        edge: { allowedRegions: ['us-east-1'], tls: { certFile: live.certFile, keyFile: live.keyFile } },
        mtls: live,
        drivers: {
          bus: { kind: 'nats', servers: [nats.url] },
          state: { kind: 'redis', url: redis.url },
          blob: { kind: 's3', bucket: 'airlock-recordings', endpoint: world.moto.url, forcePathStyle: true },
        },
      },
      env: { ...world.vendingEnv, AIRLOCK_SESSION_KEYS: `test-1:${randomBytes(32).toString('base64')}` },
    });
    const written = parse(await readFile(join(airlock.dataDir, 'airlock.yaml'), 'utf8')) as { services: { policy: { listen: string } } };
    policyAddress = written.services.policy.listen;
  }, 300_000);

  afterAll(async () => {
    await airlock?.stop();
    await Promise.all([world?.stop(), idp?.stop(), ...peers.map((peer) => peer.stop())]);
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  /** An agent whose HTTPS client trusts `ca` only. */
  const agent = async (ca: CertificateAuthority) => {
    const requestHandler = new NodeHttpHandler({ httpsAgent: new Agent({ ca: ca.cert }) });
    const sts = new STSClient({ region: 'us-east-1', endpoint: airlock.url, maxAttempts: 1, requestHandler });
    const { Credentials: issued } = await sts.send(
      new AssumeRoleWithWebIdentityCommand({ RoleArn: world.roleArn, RoleSessionName: 'mtls', WebIdentityToken: await idp.issueToken() }),
    );
    const credentials = { accessKeyId: issued!.AccessKeyId!, secretAccessKey: issued!.SecretAccessKey!, sessionToken: issued!.SessionToken! };
    return new S3Client({ region: 'us-east-1', endpoint: airlock.url, forcePathStyle: true, credentials, maxAttempts: 1, requestHandler });
  };

  /** One Decide call straight to the policy service, as a peer holding `credentials` would make it. */
  const decideAsPeer = async (credentials: ChannelCredentials) => {
    const connection = createGrpcClient(PolicyServiceService, { address: policyAddress, serviceName: 'policy', defaultTimeoutMs: 3_000, credentials });
    try {
      return await connection.client.decide({
        principal: { subject: 'peer', issuer: idp.issuer, groups: [], sessionId: 's', name: '' },
        call: { service: 's3', operation: 'ListBuckets', action: 's3:ListBuckets', resources: [], region: 'us-east-1', roleArn: world.roleArn, parameters: {} },
        context: {},
      });
    } finally {
      connection.close();
    }
  };
  const withCertificate = (ca: CertificateAuthority, leaf: IssuedCertificate) =>
    grpcCredentials.createSsl(Buffer.from(ca.cert), Buffer.from(leaf.key), Buffer.from(leaf.cert));

  /** The certificate the edge presents on a new connection. */
  const edgeCertificate = (ca: CertificateAuthority) =>
    new Promise<string>((resolve, reject) => {
      const { port } = new URL(airlock.url);
      const socket = tlsConnect({ host: '127.0.0.1', port: Number(port), ca: ca.cert, servername: 'localhost' }, () => {
        const raw = socket.getPeerX509Certificate();
        socket.destroy();
        resolve(raw?.fingerprint256 ?? '');
      });
      socket.on('error', reject);
    });

  /** Bounded wait for a reload, which follows a file change by a fraction of a second; no timing is asserted. */
  const eventually = async <T>(attempt: () => Promise<T>): Promise<T> => {
    let last: unknown;
    for (let round = 0; round < 100; round++) {
      try {
        return await attempt();
      } catch (error) {
        last = error;
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
    }
    throw last;
  };

  it('carries an agent over HTTPS through services that speak mTLS to each other', async () => {
    const s3 = await agent(first);
    await s3.send(new CreateBucketCommand({ Bucket: bucket }));
    await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'greeting', Body: 'over TLS all the way' }));
    const read = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'greeting' }));
    expect(await read.Body?.transformToString()).toBe('over TLS all the way');
    expect(await edgeCertificate(first)).toBe(new X509Certificate(firstLeaf.cert).fingerprint256);
  });

  it('refuses peers without a certificate from the CA: plaintext, TLS without a client certificate, a foreign CA', async () => {
    await expect(decideAsPeer(grpcCredentials.createInsecure())).rejects.toMatchObject({ code: 'DependencyUnavailable' });
    await expect(decideAsPeer(grpcCredentials.createSsl(Buffer.from(first.cert)))).rejects.toMatchObject({ code: 'DependencyUnavailable' });
    await expect(decideAsPeer(grpcCredentials.createSsl(Buffer.from(first.cert), Buffer.from(rogueLeaf.key), Buffer.from(rogueLeaf.cert)))).rejects.toMatchObject({
      code: 'DependencyUnavailable',
    });
    // The same call with the CA's certificate is answered (whatever policy decides): the refusals were the handshake's.
    expect((await decideAsPeer(withCertificate(first, firstLeaf))).decision).not.toBe(Decision.DECISION_UNSPECIFIED);
  });

  it('rotates every process to new certificates when the files change, without a restart', async () => {
    const edgePid = airlock.pid();
    await expect(decideAsPeer(withCertificate(second, secondLeaf))).rejects.toMatchObject({ code: 'DependencyUnavailable' });
    await replaceFile(live.caFile, second.cert);
    await replaceFile(live.keyFile, secondLeaf.key);
    await replaceFile(live.certFile, secondLeaf.cert);

    // New connections: the services now want the second CA's certificates and refuse the first's.
    expect((await eventually(() => decideAsPeer(withCertificate(second, secondLeaf)))).decision).not.toBe(Decision.DECISION_UNSPECIFIED);
    await expect(decideAsPeer(withCertificate(first, firstLeaf))).rejects.toMatchObject({ code: 'DependencyUnavailable' });
    // The edge presents the new certificate to new clients.
    expect(await eventually(() => edgeCertificate(second))).toBe(new X509Certificate(secondLeaf.cert).fingerprint256);

    // The edge's own connections to the services: a restarted policy service forces a new one, made with the new
    // certificates; the edge itself was never restarted.
    await airlock.restart('policy');
    const s3 = await agent(second);
    const read = await eventually(() => s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'greeting' })));
    expect(await read.Body?.transformToString()).toBe('over TLS all the way');
    expect(airlock.pid()).toBe(edgePid);
    expect(airlock.output()).toContain('mTLS certificates reloaded');
    expect(airlock.output()).toContain('edge TLS certificate reloaded');
  });
});
