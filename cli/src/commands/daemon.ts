import { serviceNamesInOrder, type ServiceName, loadConfig } from '@airlock/config';
import { runEdge, runEmbedded, runService, runSlackBot, type Running } from '../run.js';
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
    return untilSignal(running);
  },
};

export const serve: Command = {
  name: 'serve',
  usage: `airlock serve <service> [--config FILE]\n    services: edge, ${serviceNamesInOrder.join(', ')}, slack-bot`,
  summary: `run one service (distributed mode): edge, ${serviceNamesInOrder.join(', ')}, slack-bot`,
  async run(argv) {
    const { values, positionals } = parseOptions(argv, daemonOptions, true);
    const [target] = positionals;
    if (target !== 'edge' && target !== 'slack-bot' && !(serviceNamesInOrder as readonly string[]).includes(target ?? '')) {
      console.error(`Unknown service "${target ?? ''}".\nUsage: ${serve.usage}`);
      return 2;
    }
    const config = await loadConfig(values.config);
    const running: Running =
      target === 'edge' ? await runEdge(config) : target === 'slack-bot' ? await runSlackBot(config) : await runService(target as ServiceName, config);
    return untilSignal(running);
  },
};

async function untilSignal(running: Running): Promise<number> {
  await new Promise<void>((resolve) => {
    const stop = () => resolve();
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
  });
  await running.close();
  return 0;
}
