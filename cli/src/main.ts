#!/usr/bin/env node
import { parseArgs } from 'node:util';
import { loadConfig, serviceNamesInOrder, type ServiceName } from '@airlock/config';
import { AirlockError } from '@airlock/errors';
import { runEdge, runEmbedded, runService, type Running } from './run.js';

const usage = `Usage:
  airlock dev [--config FILE]                 run every service in this process (embedded mode)
  airlock serve <service> [--config FILE]     run one service (distributed mode)
      services: edge, ${serviceNamesInOrder.join(', ')}
  airlock --help`;

async function main(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: { config: { type: 'string', short: 'c' }, help: { type: 'boolean', short: 'h' } },
  });
  const [command, target] = positionals;
  if (values.help || !command) {
    console.log(usage);
    return values.help ? 0 : 2;
  }
  const config = await loadConfig(values.config);
  let running: Running;
  switch (command) {
    case 'dev':
      running = await runEmbedded(config);
      console.log(`Airlock is running (embedded mode). Point AWS clients at ${running.edgeUrl}`);
      break;
    case 'serve':
      if (target === 'edge') running = await runEdge(config);
      else if (target && (serviceNamesInOrder as readonly string[]).includes(target)) running = await runService(target as ServiceName, config);
      else {
        console.error(`Unknown service "${target ?? ''}".\n${usage}`);
        return 2;
      }
      break;
    default:
      console.error(`Unknown command "${command}".\n${usage}`);
      return 2;
  }
  await waitForSignal();
  await running.close();
  return 0;
}

function waitForSignal(): Promise<void> {
  return new Promise((resolve) => {
    const stop = () => resolve();
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
  });
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (error: unknown) => {
    const message = error instanceof AirlockError ? error.message : error instanceof Error ? (error.stack ?? error.message) : String(error);
    console.error(`airlock: ${message}`);
    process.exit(error instanceof AirlockError ? 2 : 1);
  },
);
