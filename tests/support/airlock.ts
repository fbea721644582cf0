import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
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
  const configPath = await writeConfig(dataDir, { dataDir, ...config, edge: { listen: `127.0.0.1:${port}`, ...(config.edge as object) } });
  const edge = launch(['dev', '--config', configPath], env);
  await waitForHealth(`http://127.0.0.1:${port}`, [edge]);
  return {
    url: `http://127.0.0.1:${port}`,
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
  output(): string;
  stop(): Promise<void>;
}

export interface DistributedAirlock extends AirlockUnderTest {
  restart(service: string): Promise<void>;
  /** Starts another edge (`airlock serve edge`) on a free port; `stop()` stops it with the rest. */
  addEdge(): Promise<ExtraEdge>;
}

/** Runs every service as its own process (`airlock serve <service>`), talking gRPC. */
export async function startDistributedAirlock({ config, env }: Launch): Promise<DistributedAirlock> {
  const dataDir = await mkdtemp(join(tmpdir(), 'airlock-distributed-'));
  const services: Record<string, { listen: string }> = {};
  for (const name of backEndServices) services[name] = { listen: `127.0.0.1:${await freePort()}` };
  const port = await freePort();
  const configPath = await writeConfig(dataDir, { dataDir, ...config, services, edge: { listen: `127.0.0.1:${port}`, ...(config.edge as object) } });
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
    await waitForHealth(`http://127.0.0.1:${port}`, [...processes.values()]);
  } catch (error) {
    await Promise.all([...processes.values()].map((launched) => launched.stop()));
    throw error;
  }
  const extraEdges: Launched[] = [];
  return {
    url: `http://127.0.0.1:${port}`,
    dataDir,
    output: () => [...processes.values(), ...extraEdges].map((launched) => launched.output()).join('\n'),
    pid: () => processes.get('edge')?.child.pid,
    async restart(name) {
      await processes.get(name)?.stop();
      await start(name);
    },
    async addEdge() {
      const edgePort = await freePort();
      const edgeConfigPath = await writeConfig(
        dataDir,
        { dataDir, ...config, services, edge: { ...(config.edge as object), listen: `127.0.0.1:${edgePort}` } },
        `airlock-edge-${edgePort}.yaml`,
      );
      const launched = launch(['serve', 'edge', '--config', edgeConfigPath], env);
      extraEdges.push(launched);
      const url = `http://127.0.0.1:${edgePort}`;
      try {
        await waitForHealth(url, [launched]);
      } catch (error) {
        await launched.stop();
        throw error;
      }
      return { url, output: () => launched.output(), stop: () => launched.stop() };
    },
    async stop() {
      await Promise.all([processes.get('edge'), ...extraEdges].map((launched) => launched?.stop()));
      await Promise.all([...processes.values()].map((launched) => launched.stop()));
      await rm(dataDir, { recursive: true, force: true });
    },
  };
}

async function writeConfig(dir: string, config: Record<string, unknown>, name = 'airlock.yaml'): Promise<string> {
  const path = join(dir, name);
  await writeFile(path, stringify(config));
  return path;
}

interface Launched {
  child: ChildProcess;
  output(): string;
  stop(): Promise<void>;
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
    async stop() {
      stopping = true;
      if (child.exitCode === null && child.signalCode === null) {
        child.kill('SIGTERM');
        const killer = setTimeout(() => child.kill('SIGKILL'), 10_000);
        await exited;
        clearTimeout(killer);
      }
    },
  };
}

/** A back-end service is ready once its gRPC port accepts connections; log lines depend on the log level. */
async function waitForPort(listen: string, launched: Launched): Promise<void> {
  const [host, port] = [listen.slice(0, listen.lastIndexOf(':')), Number(listen.slice(listen.lastIndexOf(':') + 1))];
  for (let attempt = 0; attempt < 200; attempt++) {
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
  for (let attempt = 0; attempt < 200; attempt++) {
    for (const launched of processes) {
      if (launched.child.exitCode !== null) throw new Error(`airlock exited before it was ready:\n${launched.output()}`);
    }
    try {
      const response = await fetch(`${url}/_airlock/health`);
      if (response.ok) return;
    } catch {
      // not listening yet
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`airlock did not become healthy at ${url}:\n${processes.map((launched) => launched.output()).join('\n')}`);
}
