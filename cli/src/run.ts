import type { AirlockConfig, ServiceName } from '@airlock/config';
import {
  ApprovalServiceService,
  CredentialVendingServiceService,
  MaskingServiceService,
  PolicyServiceService,
} from '@airlock/contracts';
import { AirlockError } from '@airlock/errors';
import { createLogger, type Logger } from '@airlock/logging';
import {
  bindInProcess,
  bindService,
  createGrpcClient,
  startGrpcServer,
  type ServiceDefinition,
  type ServiceRuntime,
} from '@airlock/transport';
import { DriverSet } from './driver-set.js';
import { startEdge } from './edge-factory.js';
import { serviceFactories, startConfiguredSlackBot } from './service-factories.js';

export interface Running {
  /** Where the edge listens, when this process runs one. */
  readonly edgeUrl?: string;
  close(): Promise<void>;
}

const loggerFor = (config: AirlockConfig, service: string): Logger => createLogger({ service, level: config.logging.level });

/** Embedded mode: every service in this process, bound in process, over the configured drivers. */
export async function runEmbedded(config: AirlockConfig): Promise<Running> {
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
      { embedded: true },
    );
    const slackBot = await startConfiguredSlackBot(config, drivers, find(ApprovalServiceService), loggerFor(config, 'slack-bot')).catch(
      async (error: unknown) => {
        await edge.close();
        throw error;
      },
    );
    return {
      edgeUrl: edge.url,
      async close() {
        await slackBot?.close();
        await edge.close();
        await closeAll(runtimes);
        await drivers.close();
      },
    };
  } catch (error) {
    await closeAll(runtimes);
    await drivers.close();
    throw error;
  }
}

/** Distributed mode: one back-end service served over gRPC. */
export async function runService(name: ServiceName, config: AirlockConfig): Promise<Running> {
  const endpoint = config.services[name];
  if (!endpoint) throw new AirlockError('InvalidConfiguration', `services.${name}.listen is required to serve ${name} on its own.`);
  const drivers = new DriverSet(config, `airlock-${name}`);
  const logger = loggerFor(config, name);
  const runtime = await serviceFactories[name](config, drivers, logger);
  await runtime.start?.();
  const server = await startGrpcServer({ listen: endpoint.listen, services: [bindService(runtime.definition, runtime.implementation)] });
  logger.info({ listen: endpoint.listen, port: server.port }, `${name} serving`);
  return {
    async close() {
      await server.close();
      await runtime.close();
      await drivers.close();
    },
  };
}

/** Distributed mode: the Slack bot on its own, voting through the approval service over gRPC. */
export async function runSlackBot(config: AirlockConfig): Promise<Running> {
  if (!config.slack) throw new AirlockError('InvalidConfiguration', 'slack (channels, listen, users) is required to serve slack-bot.');
  const endpoint = config.services.approval;
  if (!endpoint) throw new AirlockError('InvalidConfiguration', 'services.approval.address is required for slack-bot to vote.');
  const drivers = new DriverSet(config, 'airlock-slack-bot');
  const approval = createGrpcClient(ApprovalServiceService, {
    address: endpoint.address ?? endpoint.listen,
    serviceName: 'approval',
    defaultTimeoutMs: config.edge.dependencyTimeoutMs,
  });
  try {
    const bot = (await startConfiguredSlackBot(config, drivers, approval.client, loggerFor(config, 'slack-bot')))!;
    return {
      async close() {
        await bot.close();
        approval.close();
        await drivers.close();
      },
    };
  } catch (error) {
    approval.close();
    await drivers.close();
    throw error;
  }
}

/** Distributed mode: an edge that reaches every other service over gRPC. */
export async function runEdge(config: AirlockConfig): Promise<Running> {
  const drivers = new DriverSet(config, 'airlock-edge');
  const address = (name: ServiceName) => {
    const endpoint = config.services[name];
    if (!endpoint) throw new AirlockError('InvalidConfiguration', `services.${name}.address is required for a distributed edge.`);
    return endpoint.address ?? endpoint.listen;
  };
  const timeout = config.edge.dependencyTimeoutMs;
  const connections = [
    createGrpcClient(PolicyServiceService, { address: address('policy'), serviceName: 'policy', defaultTimeoutMs: timeout }),
    createGrpcClient(ApprovalServiceService, { address: address('approval'), serviceName: 'approval', defaultTimeoutMs: timeout }),
    createGrpcClient(CredentialVendingServiceService, { address: address('credential-vending'), serviceName: 'credential-vending', defaultTimeoutMs: timeout }),
    createGrpcClient(MaskingServiceService, { address: address('masking'), serviceName: 'masking', defaultTimeoutMs: timeout }),
  ] as const;
  const [policy, approval, credentials, masking] = connections;
  const edge = await startEdge(
    config,
    { policy: policy.client, approval: approval.client, credentials: credentials.client, masking: masking.client },
    drivers,
    loggerFor(config, 'edge-proxy'),
    { embedded: false },
  );
  return {
    edgeUrl: edge.url,
    async close() {
      await edge.close();
      for (const connection of connections) connection.close();
      await drivers.close();
    },
  };
}

async function closeAll(runtimes: ServiceRuntime[]): Promise<void> {
  await Promise.allSettled([...runtimes].reverse().map((runtime) => runtime.close()));
}
