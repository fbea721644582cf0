import { serviceNamesInOrder, type AirlockConfig, type ServiceName, loadConfig } from '@airlock/config';
import { createLogger } from '@airlock/logging';
import { createGrpcClient, HealthService } from '@airlock/transport';
import { applyReload, runConsole, runEdge, runEmbedded, runService, runSlackBot, type Running } from '../run.js';
import { parseOptions } from './args.js';
import type { Command } from './command.js';

const daemonOptions = { config: { type: 'string', short: 'c' }, help: { type: 'boolean', short: 'h' } } as const;

export const dev: Command = {
  name: 'dev',
  usage: 'airlock dev [--config FILE]',
  summary: 'run every service in this process (embedded mode)',
  async run(argv) {
    const { values } = parseOptions(argv, daemonOptions, true);
    const config = await loadConfig(values.config);
    const running = await runEmbedded(config);
    console.log(`Airlock is running (embedded mode). Point AWS clients at ${running.edgeUrl}`);
    return untilSignal(running, config, values.config);
  },
};

export const serve: Command = {
  name: 'serve',
  usage: `airlock serve <service> [--config FILE]\n    services: edge, ${serviceNamesInOrder.join(', ')}, slack-bot, console`,
  summary: `run one service (distributed mode): edge, ${serviceNamesInOrder.join(', ')}, slack-bot, console`,
  async run(argv) {
    const { values, positionals } = parseOptions(argv, daemonOptions, true);
    const [target] = positionals;
    if (target !== 'edge' && target !== 'slack-bot' && target !== 'console' && !(serviceNamesInOrder as readonly string[]).includes(target ?? '')) {
      console.error(`Unknown service "${target ?? ''}".\nUsage: ${serve.usage}`);
      return 2;
    }
    const config = await loadConfig(values.config);
    const running: Running =
      target === 'edge'
        ? await runEdge(config)
        : target === 'slack-bot'
          ? await runSlackBot(config)
          : target === 'console'
            ? await runConsole(config)
            : await runService(target as ServiceName, config);
    return untilSignal(running, config, values.config);
  },
};

/**
 * Runs until SIGTERM or SIGINT, then drains for lifecycle.drainSeconds (a second signal exits at once). SIGHUP
 * reloads the configuration file: what can change in a running process does (the log level, the drain grace; the
 * policy service reloads its policy files by itself), and every other changed section is named as waiting for a restart.
 */
export const probe: Command = {
  name: 'probe',
  usage: 'airlock probe (--http URL | --grpc HOST:PORT [--service NAME]) [--timeout MS]',
  summary: 'health probe for containers: exit 0 when the edge (HTTP 200) or a service (gRPC SERVING) is healthy',
  async run(argv) {
    const { values } = parseOptions(argv, {
      http: { type: 'string' },
      grpc: { type: 'string' },
      service: { type: 'string' },
      timeout: { type: 'string' },
    });
    const timeoutMs = Number(values.timeout ?? 2_000);
    if ((values.http === undefined) === (values.grpc === undefined) || !(timeoutMs > 0)) {
      console.error(`Usage: ${probe.usage}`);
      return 2;
    }
    try {
      if (values.http !== undefined) {
        const response = await fetch(values.http, { signal: AbortSignal.timeout(timeoutMs) });
        await response.body?.cancel();
        if (response.ok) return 0;
        console.error(`${values.http}: HTTP ${response.status}`);
        return 1;
      }
      const { client, close } = createGrpcClient(HealthService, { address: values.grpc!, serviceName: values.grpc!, defaultTimeoutMs: timeoutMs });
      try {
        const { status } = await client.check({ service: values.service ?? '' });
        if (status === 'SERVING') return 0;
        console.error(`${values.grpc}: ${status}`);
        return 1;
      } finally {
        close();
      }
    } catch (error) {
      console.error(error instanceof Error ? error.message : String(error));
      return 1;
    }
  },
};

async function untilSignal(running: Running, config: AirlockConfig, configPath: string | undefined): Promise<number> {
  const logger = createLogger({ service: 'lifecycle', level: config.logging.level });
  let current = config;
  const reload = () => {
    loadConfig(configPath).then(
      (next) => {
        applyReload(next);
        logger.level = next.logging.level;
        const restartNeeded = changedSections(current, next).filter((section) => section !== 'logging' && section !== 'lifecycle');
        logger.info({ restartNeeded }, restartNeeded.length ? 'configuration reloaded; these sections change only after a restart' : 'configuration reloaded');
        current = next;
      },
      (error: unknown) => logger.error({ error: error instanceof Error ? error.message : String(error) }, 'configuration reload refused; the running configuration stays'),
    );
  };
  process.on('SIGHUP', reload);
  const signal = await new Promise<NodeJS.Signals>((resolve) => {
    process.once('SIGINT', resolve);
    process.once('SIGTERM', resolve);
  });
  // SIGHUP keeps its listener while draining: without one it would end the process.
  const now = (second: NodeJS.Signals) => {
    logger.warn({ signal: second }, 'second signal while draining: exiting now');
    process.exit(1);
  };
  process.once('SIGINT', now);
  process.once('SIGTERM', now);
  logger.info({ signal, drainSeconds: current.lifecycle.drainSeconds }, 'draining');
  await running.close(current.lifecycle.drainSeconds * 1000);
  logger.info('stopped');
  return 0;
}

function changedSections(before: AirlockConfig, after: AirlockConfig): string[] {
  const sections = new Set([...Object.keys(before), ...Object.keys(after)]) as Set<keyof AirlockConfig>;
  return [...sections].filter((section) => JSON.stringify(before[section]) !== JSON.stringify(after[section]));
}
