import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createConnection, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/**
 * Real servers for tests, each on a free port of its own: tests must never touch the machine's standing services
 * on 4222/6379, and files running one after another must not see each other's data.
 */

export interface Peer {
  url: string;
  port: number;
  stop(): Promise<void>;
}

const STARTUP_TIMEOUT_MS = 20_000;
const STOP_GRACE_MS = 5_000;
const OUTPUT_LIMIT = 64 * 1024;

const running = new Set<ChildProcess>();
let exitHookInstalled = false;

/** Children die with the test process, even when a test forgets to stop them or the run is interrupted. */
function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  const killAll = (): void => {
    for (const child of running) child.kill('SIGKILL');
  };
  process.once('exit', killAll);
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.once(signal, () => {
      killAll();
      process.kill(process.pid, signal);
    });
  }
}

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => (port ? resolve(port) : reject(new Error('could not get a free port'))));
    });
  });
}

interface Spawned {
  child: ChildProcess;
  output(): string;
  /** Rejects as soon as the process exits; lets readiness checks stop waiting for a dead server. */
  exited: Promise<never>;
  stop(): Promise<void>;
}

function launch(command: string, args: string[], env: NodeJS.ProcessEnv = process.env): Spawned {
  installExitHook();
  const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'], env });
  running.add(child);
  let output = '';
  const capture = (chunk: Buffer): void => {
    output = (output + chunk.toString('utf8')).slice(-OUTPUT_LIMIT);
  };
  child.stdout?.on('data', capture);
  child.stderr?.on('data', capture);
  const exitedPromise = new Promise<never>((_, reject) => {
    child.once('error', (error) => reject(new Error(`${command} could not be started: ${error.message}`)));
    child.once('exit', (code, signal) => reject(new Error(`${command} exited (${signal ?? `code ${code}`})`)));
  });
  exitedPromise.catch(() => undefined);
  child.once('exit', () => running.delete(child));
  const gone = new Promise<void>((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) resolve();
    child.once('exit', () => resolve());
    child.once('error', () => resolve());
  });
  return {
    child,
    output: () => output,
    exited: exitedPromise,
    stop: async () => {
      if (child.exitCode === null && child.signalCode === null) {
        child.kill('SIGTERM');
        const timer = setTimeout(() => child.kill('SIGKILL'), STOP_GRACE_MS);
        await gone;
        clearTimeout(timer);
      }
    },
  };
}

async function startPeer(
  name: string,
  spawned: Spawned,
  ready: () => Promise<boolean>,
  describe: { url: string; port: number },
  cleanup: () => Promise<void> = async () => undefined,
): Promise<Peer> {
  const deadline = Date.now() + STARTUP_TIMEOUT_MS;
  try {
    for (;;) {
      const ok = await Promise.race([ready().catch(() => false), spawned.exited]);
      if (ok) break;
      if (Date.now() > deadline) throw new Error(`not ready after ${STARTUP_TIMEOUT_MS} ms`);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  } catch (error) {
    await spawned.stop();
    await cleanup();
    const reason = error instanceof Error ? error.message : String(error);
    throw new Error(`${name} on port ${describe.port} failed to start: ${reason}\n--- output ---\n${spawned.output()}`);
  }
  let stopped: Promise<void> | undefined;
  return {
    ...describe,
    stop: () => {
      stopped ??= spawned.stop().then(cleanup);
      return stopped;
    },
  };
}

/** Connects, sends `probe` (if any) and resolves true once the first reply starts with `expect`. */
function tcpProbe(port: number, probe: string | undefined, expect: string): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = createConnection({ host: '127.0.0.1', port });
    let received = '';
    const done = (ok: boolean): void => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(1_000, () => done(false));
    socket.once('error', () => done(false));
    socket.once('connect', () => {
      if (probe !== undefined) socket.write(probe);
    });
    socket.on('data', (chunk) => {
      received += chunk.toString('utf8');
      if (received.length >= expect.length) done(received.startsWith(expect));
    });
  });
}

export interface NatsPeer extends Peer {
  /** The HTTP monitoring endpoint (/connz, /subsz …), when started with `monitoring`. */
  monitorUrl?: string;
}

export async function startNats(options: { storeDir?: string; port?: number; monitoring?: boolean } = {}): Promise<NatsPeer> {
  const port = options.port ?? (await freePort());
  const ownDir = options.storeDir === undefined;
  const storeDir = options.storeDir ?? (await mkdtemp(join(tmpdir(), 'airlock-nats-')));
  const monitorPort = options.monitoring ? await freePort() : undefined;
  const monitorArgs = monitorPort === undefined ? [] : ['-m', String(monitorPort)];
  const spawned = launch('nats-server', ['-js', '-a', '127.0.0.1', '-p', String(port), '-sd', storeDir, ...monitorArgs]);
  // The server greets every client with INFO once it accepts connections, which is after JetStream is up.
  const peer = await startPeer('nats-server', spawned, () => tcpProbe(port, undefined, 'INFO '), { url: `nats://127.0.0.1:${port}`, port }, async () => {
    if (ownDir) await rm(storeDir, { recursive: true, force: true });
  });
  return monitorPort === undefined ? peer : { ...peer, monitorUrl: `http://127.0.0.1:${monitorPort}` };
}

export async function startRedis(): Promise<Peer> {
  const port = await freePort();
  const dir = await mkdtemp(join(tmpdir(), 'airlock-redis-'));
  const spawned = launch('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', dir]);
  return startPeer('redis-server', spawned, () => tcpProbe(port, 'PING\r\n', '+PONG'), { url: `redis://127.0.0.1:${port}`, port }, () =>
    rm(dir, { recursive: true, force: true }),
  );
}

export async function startMoto(options: { initialNoAuthActionCount?: number } = {}): Promise<Peer> {
  const port = await freePort();
  // Auth stays off unless asked for, even if the test process happens to have the variable set.
  const env: NodeJS.ProcessEnv = { ...process.env };
  delete env.INITIAL_NO_AUTH_ACTION_COUNT;
  if (options.initialNoAuthActionCount !== undefined) env.INITIAL_NO_AUTH_ACTION_COUNT = String(options.initialNoAuthActionCount);
  const spawned = launch('python3', ['-m', 'moto.server', '-H', '127.0.0.1', '-p', String(port)], env);
  const url = `http://127.0.0.1:${port}`;
  const ready = async (): Promise<boolean> => {
    const response = await fetch(`${url}/moto-api/`, { signal: AbortSignal.timeout(1_000) });
    await response.body?.cancel();
    return response.status === 200;
  };
  return startPeer('moto', spawned, ready, { url, port });
}

export interface LoadBalancerOptions {
  /** host:port of each server, in order; they need not be up yet (health checks take them in and out). */
  backends: string[];
  /** What haproxy asks each server; a server answering anything but 200 takes no new calls. @default /_airlock/ready */
  checkPath?: string;
  /** Time between health checks of a server. @default 500 */
  checkIntervalMs?: number;
  /** Where it listens, when clients must know it in advance (edge.hosts). @default a free port */
  port?: number;
}

/**
 * haproxy (Debian's) in front of `backends`, round robin, with HTTP health checks: a server is out after two failed
 * checks and back after two good ones. A connection a server refuses is retried on another server (`option
 * redispatch`); a request already sent is never replayed by haproxy (the default `retry-on conn-failure`), so a call
 * cut off mid-flight reaches the client as a 502 that its SDK retries.
 */
export async function startHaproxy(options: LoadBalancerOptions): Promise<Peer> {
  const port = options.port ?? (await freePort());
  const dir = await mkdtemp(join(tmpdir(), 'airlock-haproxy-'));
  const interval = options.checkIntervalMs ?? 500;
  const config = [
    'global',
    '  maxconn 4096',
    'defaults',
    '  mode http',
    '  timeout connect 1s',
    // A busy machine answers a readiness probe slowly; that is not a down server.
    '  timeout check 2s',
    '  timeout client 90s',
    '  timeout server 90s',
    '  retries 3',
    '  option redispatch 1',
    'frontend airlock',
    `  bind 127.0.0.1:${port}`,
    '  monitor-uri /haproxy-health',
    '  default_backend edges',
    'backend edges',
    '  balance roundrobin',
    `  option httpchk GET ${options.checkPath ?? '/_airlock/ready'}`,
    '  http-check expect status 200',
    `  default-server inter ${interval}ms fastinter ${interval}ms downinter ${interval}ms fall 2 rise 2`,
    ...options.backends.map((backend, index) => `  server edge${index} ${backend} check`),
    '',
  ].join('\n');
  const configPath = join(dir, 'haproxy.cfg');
  await writeFile(configPath, config);
  const spawned = launch('haproxy', ['-db', '-f', configPath]);
  return startPeer('haproxy', spawned, () => tcpProbe(port, 'GET /haproxy-health HTTP/1.0\r\n\r\n', 'HTTP/1.1 200'), { url: `http://127.0.0.1:${port}`, port }, () =>
    rm(dir, { recursive: true, force: true }),
  );
}
