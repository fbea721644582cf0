import { experimental, type ChannelCredentials, type ServerCredentials } from '@grpc/grpc-js';
import type { TlsMaterial, WatchedTlsFiles } from './tls-files.js';

type CaListener = experimental.CaCertificateUpdateListener;
type IdentityListener = experimental.IdentityCertificateUpdateListener;

/**
 * grpc-js's certificate provider interface fed by watched files: every update reaches the server's (or channel's)
 * secure context, which applies to connections made from then on; connections already open keep their handshake.
 */
class WatchedCertificateProvider implements experimental.CertificateProvider {
  private readonly caListeners = new Set<CaListener>();
  private readonly identityListeners = new Set<IdentityListener>();

  constructor(private readonly files: WatchedTlsFiles) {
    files.onChange((material) => {
      for (const listener of this.caListeners) listener(caUpdate(material));
      for (const listener of this.identityListeners) listener(identityUpdate(material));
    });
  }

  // The current certificates reach a new listener on the next microtask, never during add: grpc-js's server
  // credentials register their own watcher only after adding the listener, and would miss a synchronous update.
  addCaCertificateListener(listener: CaListener): void {
    this.caListeners.add(listener);
    queueMicrotask(() => {
      if (this.caListeners.has(listener)) listener(caUpdate(this.files.current()));
    });
  }

  removeCaCertificateListener(listener: CaListener): void {
    this.caListeners.delete(listener);
  }

  addIdentityCertificateListener(listener: IdentityListener): void {
    this.identityListeners.add(listener);
    queueMicrotask(() => {
      if (this.identityListeners.has(listener)) listener(identityUpdate(this.files.current()));
    });
  }

  removeIdentityCertificateListener(listener: IdentityListener): void {
    this.identityListeners.delete(listener);
  }
}

function caUpdate(material: TlsMaterial): experimental.CaCertificateUpdate | null {
  return material.ca ? { caCertificate: material.ca } : null;
}

function identityUpdate(material: TlsMaterial): experimental.IdentityCertificateUpdate {
  return { certificate: material.cert, privateKey: material.key };
}

/** mTLS for a gRPC server: it presents its certificate and refuses every client without one signed by the CA. */
export function mutualTlsServerCredentials(files: WatchedTlsFiles): ServerCredentials {
  const provider = new WatchedCertificateProvider(files);
  // One provider serves both roles, so grpc-js's argument order (CA first in the function, identity first in the class) cannot mix them up.
  return experimental.createCertificateProviderServerCredentials(provider, provider, true);
}

/** mTLS for a gRPC client: it checks the server's certificate against the CA and name, and presents its own. */
export function mutualTlsChannelCredentials(files: WatchedTlsFiles): ChannelCredentials {
  const provider = new WatchedCertificateProvider(files);
  return experimental.createCertificateProviderChannelCredentials(provider, provider);
}
