import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { get as httpGet } from 'node:http';
import { get as httpsGet } from 'node:https';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { stringify } from 'yaml';
import { freePort } from './peers.js';

const cliPath = fileURLToPath(new URL('../../cli/dist/main.js', import.meta.url));
const backEndServices = ['policy', 'approval', 'credential-vending', 'masking', 'recorder'] as const;

export interface AirlockUnderTest {
  url: string;
  /** The edge's operations listener (edge.opsListen): health, readiness with reasons, metrics. */
  opsUrl: string;
  dataDir: string;
  /** Everything the processes printed, for assertions that secrets never reach logs. */
  output(): string;
  /** The process id of the edge (in embedded mode: of the one process), e.g. to read its memory from /proc. */
  pid(): number | undefined;
  stop(): Promise<void>;
}

interface Launch {
  config: Record<string, unknown>;
  env: Record<string, string>;
}

/** Runs `airlock dev`: every service in one process. */
export async function startEmbeddedAirlock({ config, env }: Launch): Promise<AirlockUnderTest> {
  const dataDir = await mkdtemp(join(tmpdir(), 'airlock-embedded-'));
  const port = await freePort();
  const edgeConfig = await edgeSettings(`127.0.0.1:${port}`, config.edge);
  const configPath = await writeConfig(dataDir, { dataDir, ...config, edge: edgeConfig });
  const edge = launch(['dev', '--config', configPath], env);
  await waitForHealth(`${edgeScheme(config)}://127.0.0.1:${port}`, [edge]);
  return {
    url: `${edgeScheme(config)}://127.0.0.1:${port}`,
    opsUrl: `http://${edgeConfig.opsListen}`,
    dataDir,
    output: () => edge.output(),
    pid: () => edge.child.pid,
    async stop() {
      await edge.stop();
      await rm(dataDir, { recursive: true, force: true });
    },
  };
}

/** One more edge process of a distributed Airlock: same configuration and back ends, its own port. */
export interface ExtraEdge {
  url: string;
  opsUrl: string;
  output(): string;
  /** The process id of the edge running now (its default edge.id is `<hostname>-<pid>`). */
  pid(): number | undefined;
  /** Sends `signal` and waits for the process to exit (SIGTERM: it drains first); `start()` brings it back. */
  kill(signal: NodeJS.Signals): Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** Starts the edge again on its port, with its configuration, and waits until it is healthy. */
  start(): Promise<void>;
  stop(): Promise<void>;
}

export interface DistributedAirlock extends AirlockUnderTest {
  /** Stops a service (SIGTERM, or SIGKILL with `kill`, as a crash) and starts it again on the same port. */
  restart(service: string, options?: { kill?: boolean }): Promise<void>;
  /** Stops one service, to see how the rest behaves without it; `restart` starts it again. */
  stopService(service: string): Promise<void>;
  /** Starts another edge (`airlock serve edge`) on a free port; `stop()` stops it with the rest. */
  addEdge(): Promise<ExtraEdge>;
}

/** Runs every service as its own process (`airlock serve <service>`), talking gRPC. */
export async function startDistributedAirlock({ config, env }: Launch): Promise<DistributedAirlock> {
  const dataDir = await mkdtemp(join(tmpdir(), 'airlock-distributed-'));
  const services: Record<string, { listen: string }> = {};
  // A test's own settings for a service (e.g. metricsListen) are kept; the listen address is always a free port.
  const given = (config.services ?? {}) as Record<string, object>;
  for (const name of backEndServices) services[name] = { ...given[name], listen: `127.0.0.1:${await freePort()}` };
  const port = await freePort();
  const edgeConfig = await edgeSettings(`127.0.0.1:${port}`, config.edge);
  const configPath = await writeConfig(dataDir, { dataDir, ...config, services, edge: edgeConfig });
  const processes = new Map<string, Launched>();
  const start = async (name: string) => {
    const launched = launch(['serve', name, '--config', configPath], env);
    processes.set(name, launched);
    const listen = services[name]?.listen;
    if (listen) await waitForPort(listen, launched);
  };
  try {
    await Promise.all(backEndServices.map(start));
    await start('edge');
    await waitForHealth(`${edgeScheme(config)}://127.0.0.1:${port}`, [...processes.values()]);
  } catch (error) {
    await Promise.all([...processes.values()].map((launched) => launched.stop()));
    throw error;
  }
  const extraEdges: Launched[] = [];
  return {
    url: `${edgeScheme(config)}://127.0.0.1:${port}`,
    opsUrl: `http://${edgeConfig.opsListen}`,
    dataDir,
    output: () => [...processes.values(), ...extraEdges].map((launched) => launched.output()).join('\n'),
    pid: () => processes.get('edge')?.child.pid,
    async restart(name, options = {}) {
      await processes.get(name)?.stop(options.kill ? 'SIGKILL' : 'SIGTERM');
      await start(name);
    },
    async stopService(name) {
      await processes.get(name)?.stop('SIGTERM');
    },
    async addEdge() {
      const edgePort = await freePort();
      const extraEdgeConfig = { ...(config.edge as object), listen: `127.0.0.1:${edgePort}`, opsListen: `127.0.0.1:${await freePort()}` };
      const edgeConfigPath = await writeConfig(dataDir, { dataDir, ...config, services, edge: extraEdgeConfig }, `airlock-edge-${edgePort}.yaml`);
      const url = `${edgeScheme(config)}://127.0.0.1:${edgePort}`;
      let launched: Launched;
      let earlierOutput = '';
      const start = async () => {
        launched = launch(['serve', 'edge', '--config', edgeConfigPath], env);
        extraEdges.push(launched);
        try {
          await waitForHealth(url, [launched]);
        } catch (error) {
          await launched.stop();
          throw error;
        }
      };
      await start();
      return {
        url,
        opsUrl: `http://${extraEdgeConfig.opsListen}`,
        output: () => earlierOutput + launched.output(),
        pid: () => launched.child.pid,
        async kill(signal) {
          const { child } = launched;
          const exited =
            child.exitCode !== null || child.signalCode !== null
              ? Promise.resolve({ code: child.exitCode, signal: child.signalCode })
              : new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => child.once('exit', (code, by) => resolve({ code, signal: by })));
          launched.expectExit();
          child.kill(signal);
          const result = await exited;
          earlierOutput += launched.output();
          extraEdges.splice(extraEdges.indexOf(launched), 1);
          return result;
        },
        start,
        stop: () => launched.stop(),
      };
    },
    async stop() {
      await Promise.all([processes.get('edge'), ...extraEdges].map((launched) => launched?.stop()));
      await Promise.all([...processes.values()].map((launched) => launched.stop()));
      await rm(dataDir, { recursive: true, force: true });
    },
  };
}

/** The edge's settings: the test's own over `listen` and an operations listener on a free port. */
async function edgeSettings(listen: string, edge: unknown): Promise<Record<string, unknown> & { opsListen: string }> {
  return { listen, opsListen: `127.0.0.1:${await freePort()}`, ...(edge as Record<string, unknown> | undefined) } as Record<string, unknown> & { opsListen: string };
}

async function writeConfig(dir: string, config: Record<string, unknown>, name = 'airlock.yaml'): Promise<string> {
  const path = join(dir, name);
  await writeFile(path, stringify(config));
  return path;
}

interface Launched {
  child: ChildProcess;
  output(): string;
  /** The process is about to be ended on purpose: its exit is not reported as unexpected. */
  expectExit(): void;
  stop(signal?: NodeJS.Signals): Promise<void>;
}

function launch(args: string[], env: Record<string, string>): Launched {
  const child = spawn(process.execPath, ['--enable-source-maps', cliPath, ...args], {
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let text = '';
  const collect = (chunk: Buffer) => {
    text += chunk.toString();
  };
  child.stdout?.on('data', collect);
  child.stderr?.on('data', collect);
  let stopping = false;
  const exited = new Promise<void>((resolve) =>
    child.once('exit', (code, signal) => {
      // A process that dies on its own is a finding: show what it said, or the failure that follows is a mystery.
      if (!stopping) console.error(`airlock ${args.slice(0, 2).join(' ')} exited unexpectedly (code ${code}, signal ${signal}):\n${text.slice(-20_000)}`);
      resolve();
    }),
  );
  return {
    child,
    output: () => text,
    expectExit() {
      stopping = true;
    },
    async stop(signal: NodeJS.Signals = 'SIGTERM') {
      stopping = true;
      if (child.exitCode === null && child.signalCode === null) {
        child.kill(signal);
        const killer = setTimeout(() => child.kill('SIGKILL'), 10_000);
        await exited;
        clearTimeout(killer);
      }
    },
  };
}

/** A back-end service is ready once its gRPC port accepts connections (within a minute: CI machines are busy); log lines depend on the log level. */
async function waitForPort(listen: string, launched: Launched): Promise<void> {
  const [host, port] = [listen.slice(0, listen.lastIndexOf(':')), Number(listen.slice(listen.lastIndexOf(':') + 1))];
  for (let attempt = 0; attempt < 600; attempt++) {
    if (launched.child.exitCode !== null) throw new Error(`airlock exited before it was ready:\n${launched.output()}`);
    const open = await new Promise<boolean>((resolve) => {
      const socket = connect({ host, port }, () => {
        socket.destroy();
        resolve(true);
      });
      socket.on('error', () => resolve(false));
    });
    if (open) return;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`airlock did not listen on ${listen}:\n${launched.output()}`);
}

async function waitForHealth(url: string, processes: Launched[]): Promise<void> {
  for (let attempt = 0; attempt < 600; attempt++) {
    for (const launched of processes) {
      if (launched.child.exitCode !== null) throw new Error(`airlock exited before it was ready:\n${launched.output()}`);
    }
    if (await answersHealthy(url)) return;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`airlock did not become healthy at ${url}:\n${processes.map((launched) => launched.output()).join('\n')}`);
}

/** An edge with edge.tls serves HTTPS. */
function edgeScheme(config: Record<string, unknown>): 'http' | 'https' {
  return (config.edge as { tls?: unknown } | undefined)?.tls ? 'https' : 'http';
}

/** The liveness probe, over HTTP or HTTPS; the probe does not judge the certificate (tests that care check it). */
function answersHealthy(url: string): Promise<boolean> {
  const get = url.startsWith('https:') ? httpsGet : httpGet;
  return new Promise((resolve) => {
    const request = get(`${url}/_airlock/health`, { rejectUnauthorized: false }, (response) => {
      response.resume();
      resolve(response.statusCode === 200);
    });
    request.on('error', () => resolve(false));
  });
}
