import { readFileSync, watch, type FSWatcher } from 'node:fs';
import { basename, dirname } from 'node:path';
import { createSecureContext } from 'node:tls';
import { AirlockError } from '@airlock/errors';

/** Where a process's TLS material lives: PEM files, as a secret mount or cert-manager writes them. */
export interface TlsFiles {
  /** Certificate and chain presented to peers. */
  certFile: string;
  keyFile: string;
  /** CA bundle that peers' certificates must chain to (mTLS); absent where peers are not asked for one. */
  caFile?: string | undefined;
}

export interface TlsMaterial {
  cert: Buffer;
  key: Buffer;
  ca?: Buffer;
}

export interface WatchedTlsFiles {
  /** The material in force: the last complete, valid set read. */
  current(): TlsMaterial;
  /** Called with each new valid set after the files change. */
  onChange(listener: (material: TlsMaterial) => void): void;
  close(): void;
}

/** Quiet time after the last change before the files are read: a rotation writes several files. */
const settleMs = 200;

/**
 * Reads TLS files now (a missing or invalid file stops the start with its name) and again whenever they change, so
 * certificates rotate without a restart: the directories are watched (Kubernetes swaps a `..data` symlink, tools
 * rename new files into place), and a set that does not load (a certificate and key from different rotations, a half
 * written file) is ignored until the next change completes it; the previous set stays in force meanwhile.
 */
export function watchTlsFiles(files: TlsFiles, report: (error: unknown) => void = () => undefined): WatchedTlsFiles {
  let current = load(files);
  const listeners: ((material: TlsMaterial) => void)[] = [];
  let timer: NodeJS.Timeout | undefined;
  const reload = () => {
    timer = undefined;
    let next: TlsMaterial;
    try {
      next = load(files);
    } catch (error) {
      report(error);
      return;
    }
    if (same(next, current)) return;
    current = next;
    for (const listener of listeners) listener(next);
  };
  const names = new Set([files.certFile, files.keyFile, files.caFile].filter((file): file is string => !!file).map((file) => basename(file)));
  const watchers: FSWatcher[] = [];
  for (const directory of new Set([files.certFile, files.keyFile, files.caFile].filter((file): file is string => !!file).map(dirname))) {
    const watcher = watch(directory, { persistent: false }, (_event, name) => {
      // Kubernetes secret volumes change `..data` and friends, never the files' own names.
      if (name && !names.has(name.toString()) && !name.toString().startsWith('..')) return;
      clearTimeout(timer);
      timer = setTimeout(reload, settleMs);
      timer.unref();
    });
    watcher.on('error', report);
    watchers.push(watcher);
  }
  return {
    current: () => current,
    onChange: (listener) => listeners.push(listener),
    close() {
      clearTimeout(timer);
      for (const watcher of watchers) watcher.close();
    },
  };
}

function load(files: TlsFiles): TlsMaterial {
  const read = (path: string, what: string) => {
    try {
      return readFileSync(path);
    } catch (error) {
      throw new AirlockError('InvalidConfiguration', `The TLS ${what} file ${path} cannot be read.`, { cause: error });
    }
  };
  const material: TlsMaterial = { cert: read(files.certFile, 'certificate'), key: read(files.keyFile, 'key') };
  if (files.caFile) material.ca = read(files.caFile, 'CA');
  try {
    createSecureContext(material);
  } catch (error) {
    throw new AirlockError('InvalidConfiguration', `The TLS files ${files.certFile} and ${files.keyFile} do not form a usable certificate and key.`, { cause: error });
  }
  return material;
}

function same(a: TlsMaterial, b: TlsMaterial): boolean {
  return a.cert.equals(b.cert) && a.key.equals(b.key) && (a.ca ?? Buffer.alloc(0)).equals(b.ca ?? Buffer.alloc(0));
}
