import type { AirlockConfig, ServiceName } from '@airlock/config';
import {
  ApprovalServiceService,
  CredentialVendingServiceService,
  MaskingServiceService,
  PolicyServiceService,
  RecorderServiceService,
} from '@airlock/contracts';
import { AirlockError } from '@airlock/errors';
import { createLogger, type Logger } from '@airlock/logging';
import {
  bindHealthService,
  bindInProcess,
  bindService,
  createGrpcClient,
  createLifecycle,
  grpcReadinessCheck,
  HealthService,
  startGrpcServer,
  type ServiceDefinition,
  type ServiceRuntime,
} from '@airlock/transport';
import { startConfiguredConsole } from './console-factory.js';
import { DriverSet } from './driver-set.js';
import { startEdge } from './edge-factory.js';
import { startProcessTelemetry } from './process-telemetry.js';
import { serviceReadiness, stateReadiness } from './readiness.js';
import { serviceFactories, startConfiguredSlackBot } from './service-factories.js';

export interface Running {
  /** Where the edge listens, when this process runs one. */
  readonly edgeUrl?: string;
  /** Drains (see lifecycle.drainSeconds): in-flight calls get `graceMs` to finish, then everything is closed. */
  close(graceMs?: number): Promise<void>;
}

/** Every logger this process made, so that a configuration reload (SIGHUP) reaches them all. */
const processLoggers = new Set<Logger>();

const loggerFor = (config: AirlockConfig, service: string): Logger => {
  const logger = createLogger({ service, level: config.logging.level });
  processLoggers.add(logger);
  return logger;
};

/** What a reload changes in a running process: the log level. (The policy service reloads its files by itself.) */
export function applyReload(config: AirlockConfig): void {
  for (const logger of processLoggers) logger.level = config.logging.level;
}

/** Embedded mode: every service in this process, bound in process, over the configured drivers. */
export async function runEmbedded(config: AirlockConfig): Promise<Running> {
  const telemetry = await startProcessTelemetry(config, 'dev', loggerFor(config, 'airlock'));
  const drivers = new DriverSet(config, 'airlock-dev');
  const runtimes: ServiceRuntime[] = [];
  try {
    for (const [name, factory] of Object.entries(serviceFactories)) {
      const runtime = await factory(config, drivers, loggerFor(config, name));
      runtimes.push(runtime);
      await runtime.start?.();
    }
    const find = <D extends ServiceDefinition>(definition: D) => {
      const runtime = runtimes.find((candidate) => candidate.definition === definition);
      if (!runtime) throw new Error(`no runtime serves ${Object.values(definition)[0]?.path}`);
      return bindInProcess(definition, runtime.implementation as never);
    };
    const edge = await startEdge(
      config,
      {
        policy: find(PolicyServiceService),
        approval: find(ApprovalServiceService),
        credentials: find(CredentialVendingServiceService),
        masking: find(MaskingServiceService),
      },
      drivers,
      loggerFor(config, 'edge-proxy'),
      { embedded: true, readiness: [stateReadiness(() => drivers.state())] },
    );
    const slackBot = await startConfiguredSlackBot(config, drivers, find(ApprovalServiceService), loggerFor(config, 'slack-bot')).catch(
      async (error: unknown) => {
        await edge.close();
        throw error;
      },
    );
    const webConsole = await startConfiguredConsole(
      config,
      { recorder: find(RecorderServiceService), bus: await drivers.bus(), localEdgeUrl: edge.url },
      loggerFor(config, 'console'),
    ).catch(async (error: unknown) => {
      await slackBot?.close();
      await edge.close();
      throw error;
    });
    return {
      edgeUrl: edge.url,
      async close(graceMs) {
        await webConsole?.close();
        await slackBot?.close();
        await edge.close(graceMs);
        await closeAll(runtimes);
        await drivers.close();
        await telemetry.close();
      },
    };
  } catch (error) {
    await closeAll(runtimes);
    await drivers.close();
    await telemetry.close();
    throw error;
  }
}

/** Distributed mode: one back-end service served over gRPC. */
export async function runService(name: ServiceName, config: AirlockConfig): Promise<Running> {
  const endpoint = config.services[name];
  if (!endpoint) throw new AirlockError('InvalidConfiguration', `services.${name}.listen is required to serve ${name} on its own.`);
  const drivers = new DriverSet(config, `airlock-${name}`);
  const logger = loggerFor(config, name);
  const telemetry = await startProcessTelemetry(config, name, logger, { metricsListen: endpoint.metricsListen });
  const runtime = await serviceFactories[name](config, drivers, logger);
  await runtime.start?.();
  // Health (grpc.health.v1) answers for the whole server and for this service's own name, as probes ask either.
  const lifecycle = createLifecycle(serviceReadiness(name, config, drivers));
  const contractName = Object.values(runtime.definition)[0]?.path.split('/')[1] ?? name;
  const server = await startGrpcServer({
    listen: endpoint.listen,
    services: [bindService(runtime.definition, runtime.implementation), bindHealthService(lifecycle, [contractName])],
    ...telemetry.grpc.server,
  });
  logger.info({ listen: endpoint.listen, port: server.port }, `${name} serving`);
  return {
    async close(graceMs) {
      lifecycle.drain();
      await server.close(graceMs);
      await runtime.close();
      await drivers.close();
      await telemetry.close();
    },
  };
}

/** Distributed mode: the Slack bot on its own, voting through the approval service over gRPC. */
export async function runSlackBot(config: AirlockConfig): Promise<Running> {
  if (!config.slack) throw new AirlockError('InvalidConfiguration', 'slack (channels, listen, users) is required to serve slack-bot.');
  const endpoint = config.services.approval;
  if (!endpoint) throw new AirlockError('InvalidConfiguration', 'services.approval.address is required for slack-bot to vote.');
  const telemetry = await startProcessTelemetry(config, 'slack-bot', loggerFor(config, 'slack-bot'));
  const drivers = new DriverSet(config, 'airlock-slack-bot');
  const approval = createGrpcClient(ApprovalServiceService, {
    address: endpoint.address ?? endpoint.listen,
    serviceName: 'approval',
    defaultTimeoutMs: config.edge.dependencyTimeoutMs,
    ...telemetry.grpc.channel,
  });
  try {
    const bot = (await startConfiguredSlackBot(config, drivers, approval.client, loggerFor(config, 'slack-bot')))!;
    return {
      async close() {
        await bot.close();
        approval.close();
        await drivers.close();
        await telemetry.close();
      },
    };
  } catch (error) {
    approval.close();
    await drivers.close();
    await telemetry.close();
    throw error;
  }
}

/** Distributed mode: the web console on its own, reading recordings from the recorder over gRPC. */
export async function runConsole(config: AirlockConfig): Promise<Running> {
  const endpoint = config.services.recorder;
  if (!endpoint) throw new AirlockError('InvalidConfiguration', 'services.recorder.address is required for the console to read recordings.');
  const logger = loggerFor(config, 'console');
  const telemetry = await startProcessTelemetry(config, 'console', logger);
  const drivers = new DriverSet(config, 'airlock-console');
  const recorder = createGrpcClient(RecorderServiceService, {
    address: endpoint.address ?? endpoint.listen,
    serviceName: 'recorder',
    defaultTimeoutMs: 60_000,
    ...telemetry.grpc.channel,
  });
  const closeRest = async () => {
    recorder.close();
    await drivers.close();
    await telemetry.close();
  };
  try {
    if (!config.console) throw new AirlockError('InvalidConfiguration', 'console (listen, oidc, edgeUrl) is required to serve the console.');
    const webConsole = (await startConfiguredConsole(config, { recorder: recorder.client, bus: await drivers.bus() }, logger))!;
    return {
      async close() {
        await webConsole.close();
        await closeRest();
      },
    };
  } catch (error) {
    await closeRest();
    throw error;
  }
}

/** Distributed mode: an edge that reaches every other service over gRPC. */
export async function runEdge(config: AirlockConfig): Promise<Running> {
  const telemetry = await startProcessTelemetry(config, 'edge', loggerFor(config, 'edge-proxy'));
  const drivers = new DriverSet(config, 'airlock-edge');
  const address = (name: ServiceName) => {
    const endpoint = config.services[name];
    if (!endpoint) throw new AirlockError('InvalidConfiguration', `services.${name}.address is required for a distributed edge.`);
    return endpoint.address ?? endpoint.listen;
  };
  const timeout = config.edge.dependencyTimeoutMs;
  const secure = telemetry.grpc.channel;
  const connections = [
    createGrpcClient(PolicyServiceService, { address: address('policy'), serviceName: 'policy', defaultTimeoutMs: timeout, ...secure }),
    createGrpcClient(ApprovalServiceService, { address: address('approval'), serviceName: 'approval', defaultTimeoutMs: timeout, ...secure }),
    createGrpcClient(CredentialVendingServiceService, { address: address('credential-vending'), serviceName: 'credential-vending', defaultTimeoutMs: timeout, ...secure }),
    createGrpcClient(MaskingServiceService, { address: address('masking'), serviceName: 'masking', defaultTimeoutMs: timeout, ...secure }),
  ] as const;
  const [policy, approval, credentials, masking] = connections;
  // Ready only while every back-end service reports SERVING: an edge that cannot reach them refuses every call.
  const healthChecks = (['policy', 'approval', 'credential-vending', 'masking'] as const).map((name) => ({
    name,
    connection: createGrpcClient(HealthService, { address: address(name), serviceName: name, defaultTimeoutMs: timeout, ...secure }),
  }));
  const edge = await startEdge(
    config,
    { policy: policy.client, approval: approval.client, credentials: credentials.client, masking: masking.client },
    drivers,
    loggerFor(config, 'edge-proxy'),
    {
      embedded: false,
      readiness: [stateReadiness(() => drivers.state()), ...healthChecks.map(({ name, connection }) => grpcReadinessCheck(name, connection.client))],
    },
  );
  return {
    edgeUrl: edge.url,
    async close(graceMs) {
      await edge.close(graceMs);
      for (const { connection } of healthChecks) connection.close();
      for (const connection of connections) connection.close();
      await drivers.close();
      await telemetry.close();
    },
  };
}

async function closeAll(runtimes: ServiceRuntime[]): Promise<void> {
  await Promise.allSettled([...runtimes].reverse().map((runtime) => runtime.close()));
}
