import { execFile } from 'node:child_process';
import { readFile, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

/** PEM files of one certificate and its key, as a service would be given them. */
export interface IssuedCertificate {
  certFile: string;
  keyFile: string;
  cert: string;
  key: string;
}

export interface CertificateAuthority {
  name: string;
  certFile: string;
  cert: string;
  /** A leaf for 127.0.0.1 and localhost (server and client use), signed by this CA. */
  issue(name: string): Promise<IssuedCertificate>;
}

/**
 * A throwaway CA made at test time with the `openssl` CLI (EC P-256, one day): nothing checked in, nothing reused
 * between runs. Leaves carry both serverAuth and clientAuth, so one certificate serves a process in both roles.
 */
export async function createCertificateAuthority(dir: string, name: string): Promise<CertificateAuthority> {
  const keyFile = join(dir, `${name}-ca.key`);
  const certFile = join(dir, `${name}-ca.pem`);
  await run('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-days', '1', '-subj', `/CN=${name} test CA`, '-keyout', keyFile, '-out', certFile]);
  return {
    name,
    certFile,
    cert: await readFile(certFile, 'utf8'),
    async issue(leaf) {
      const leafKey = join(dir, `${name}-${leaf}.key`);
      const leafCsr = join(dir, `${name}-${leaf}.csr`);
      const leafCert = join(dir, `${name}-${leaf}.pem`);
      const extensions = join(dir, `${name}-${leaf}.ext`);
      await writeFile(extensions, 'subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth,clientAuth\n');
      await run('openssl', ['req', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-subj', `/CN=${leaf}`, '-keyout', leafKey, '-out', leafCsr]);
      await run('openssl', ['x509', '-req', '-in', leafCsr, '-CA', certFile, '-CAkey', keyFile, '-CAcreateserial', '-days', '1', '-extfile', extensions, '-out', leafCert]);
      return { certFile: leafCert, keyFile: leafKey, cert: await readFile(leafCert, 'utf8'), key: await readFile(leafKey, 'utf8') };
    },
  };
}

/** Replaces a file the way rotation tools do: written beside it, then renamed over it in one step. */
export async function replaceFile(path: string, content: string): Promise<void> {
  await writeFile(`${path}.next`, content);
  await rename(`${path}.next`, path);
}
