import { serviceNamesInOrder, type AirlockConfig, type ServiceName, loadConfig } from '@airlock/config';
import { createLogger } from '@airlock/logging';
import type { Running } from '../run.js';
import { UsageError } from '../people/errors.js';
import { parseOptions } from './args.js';

const daemonOptions = { config: { type: 'string', short: 'c' }, help: { type: 'boolean', short: 'h' } } as const;

/** Every service and its drivers, loaded once the arguments and the configuration are known to be good: mistakes in them are told at once. */
const services = () => import('../run.js');

export async function dev(argv: string[]): Promise<number> {
  const { values } = parseOptions(argv, daemonOptions, true);
  const config = await loadConfig(values.config);
  const running = await (await services()).runEmbedded(config);
  console.log(`Airlock is running (embedded mode). Point AWS clients at ${running.edgeUrl}`);
  return untilSignal(running, config, values.config);
}

export async function serve(argv: string[]): Promise<number> {
  const { values, positionals } = parseOptions(argv, daemonOptions, true);
  const [target] = positionals;
  if (target !== 'edge' && target !== 'slack-bot' && target !== 'console' && !(serviceNamesInOrder as readonly string[]).includes(target ?? '')) {
    throw new UsageError(`${target === undefined ? 'name the service to serve' : `unknown service "${target}"`}: edge, ${serviceNamesInOrder.join(', ')}, slack-bot or console`);
  }
  const config = await loadConfig(values.config);
  const { runConsole, runEdge, runService, runSlackBot } = await services();
  const running: Running =
    target === 'edge'
      ? await runEdge(config)
      : target === 'slack-bot'
        ? await runSlackBot(config)
        : target === 'console'
          ? await runConsole(config)
          : await runService(target as ServiceName, config);
  return untilSignal(running, config, values.config);
}

/**
 * Runs until SIGTERM or SIGINT, then drains for lifecycle.drainSeconds (a second signal exits at once). SIGHUP
 * reloads the configuration file: what can change in a running process does (the log level, the drain grace; the
 * policy service reloads its policy files by itself), and every other changed section is named as waiting for a restart.
 */
async function untilSignal(running: Running, config: AirlockConfig, configPath: string | undefined): Promise<number> {
  const { applyReload } = await services();
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
