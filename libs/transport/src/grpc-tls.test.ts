import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { credentials as grpcCredentials } from '@grpc/grpc-js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createCertificateAuthority, replaceFile, type CertificateAuthority, type IssuedCertificate } from '../../../tests/support/certificates.js';
import { createGrpcClient } from './grpc-client.js';
import { startGrpcServer, type RunningGrpcServer } from './grpc-server.js';
import { mutualTlsChannelCredentials, mutualTlsServerCredentials } from './grpc-tls.js';
import { HealthService, bindHealthService } from './health.js';
import { createLifecycle } from './runtime.js';
import { watchTlsFiles, type WatchedTlsFiles } from './tls-files.js';

describe('mTLS from watched files', () => {
  let dir: string;
  let first: CertificateAuthority;
  let second: CertificateAuthority;
  let firstLeaf: IssuedCertificate;
  let secondLeaf: IssuedCertificate;
  let files: WatchedTlsFiles;
  let server: RunningGrpcServer;
  const live = { caFile: '', certFile: '', keyFile: '' };

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'airlock-grpc-tls-'));
    [first, second] = await Promise.all([createCertificateAuthority(dir, 'first'), createCertificateAuthority(dir, 'second')]);
    [firstLeaf, secondLeaf] = await Promise.all([first.issue('server'), second.issue('server')]);
    Object.assign(live, { caFile: join(dir, 'ca.pem'), certFile: join(dir, 'tls.crt'), keyFile: join(dir, 'tls.key') });
    await Promise.all([replaceFile(live.caFile, first.cert), replaceFile(live.certFile, firstLeaf.cert), replaceFile(live.keyFile, firstLeaf.key)]);
    files = watchTlsFiles(live);
    server = await startGrpcServer({ listen: '127.0.0.1:0', services: [bindHealthService(createLifecycle([]), [])], credentials: mutualTlsServerCredentials(files) });
  });

  afterAll(async () => {
    await server?.close(100);
    files?.close();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  const check = async (credentials: ReturnType<typeof grpcCredentials.createInsecure>) => {
    const connection = createGrpcClient(HealthService, { address: `127.0.0.1:${server.port}`, serviceName: 'health', defaultTimeoutMs: 3_000, credentials });
    try {
      return (await connection.client.check({ service: '' })).status;
    } finally {
      connection.close();
    }
  };

  it('serves a client holding a certificate from the CA, and refuses one without', async () => {
    expect(await check(mutualTlsChannelCredentials(files))).toBe('SERVING');
    await expect(check(grpcCredentials.createSsl(Buffer.from(first.cert)))).rejects.toMatchObject({ code: 'DependencyUnavailable' });
    await expect(check(grpcCredentials.createInsecure())).rejects.toMatchObject({ code: 'DependencyUnavailable' });
  });

  it('takes new certificates for new connections once the files change, and ignores a set that does not load', async () => {
    // A certificate without its key does not load: the first set stays in force meanwhile.
    await replaceFile(live.certFile, secondLeaf.cert);
    await new Promise((resolve) => setTimeout(resolve, 500));
    expect(files.current().cert.toString()).toBe(firstLeaf.cert);
    await replaceFile(live.keyFile, secondLeaf.key);
    await replaceFile(live.caFile, second.cert);
    for (let round = 0; round < 100 && files.current().ca?.toString() !== second.cert; round++) await new Promise((resolve) => setTimeout(resolve, 100));
    expect(files.current().ca?.toString()).toBe(second.cert);
    const secondClient = grpcCredentials.createSsl(Buffer.from(second.cert), Buffer.from(secondLeaf.key), Buffer.from(secondLeaf.cert));
    expect(await check(secondClient)).toBe('SERVING');
    const firstClient = grpcCredentials.createSsl(Buffer.from(first.cert), Buffer.from(firstLeaf.key), Buffer.from(firstLeaf.cert));
    await expect(check(firstClient)).rejects.toMatchObject({ code: 'DependencyUnavailable' });
  });
});
