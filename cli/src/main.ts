#!/usr/bin/env node
import type { Command } from './commands/command.js';
import { commands } from './commands/table.js';
import { Failure, UsageError } from './people/errors.js';

/** Synopsis lines of every command (detail lines, indented, are left to `airlock <command> --help`), then summaries. */
const usage = `Usage:
${commands.flatMap((command) => command.usage.split('\n').filter((line) => !line.startsWith(' ')).map((line) => `  ${line}`)).join('\n')}
  airlock <command> --help      options and details of one command

Commands:
${commands.map((command) => `  ${command.name.padEnd(13)}${command.summary}`).join('\n')}`;

/** The global options `dev` and `serve` have always accepted before the command name (`airlock -c FILE dev`). */
const optionsWithValue = new Set(['--config', '-c']);

async function main(argv: string[]): Promise<number> {
  const at = commandIndex(argv);
  const name = at < 0 ? undefined : argv[at];
  const rest = at < 0 ? argv : [...argv.slice(0, at), ...argv.slice(at + 1)];
  const asksHelp = (args: string[]) => {
    const end = args.indexOf('--');
    return (end < 0 ? args : args.slice(0, end)).some((arg) => arg === '--help' || arg === '-h');
  };
  if (name === undefined) {
    console.log(usage);
    return asksHelp(argv) ? 0 : 2;
  }
  const command: Command | undefined = commands.find((candidate) => candidate.name === name);
  if (!command) {
    console.error(`Unknown command "${name}".\n${usage}`);
    return 2;
  }
  if (asksHelp(rest)) {
    console.log(`Usage:\n  ${command.usage.split('\n').join('\n  ')}`);
    return 0;
  }
  try {
    return await command.run(rest);
  } catch (error) {
    if (!(error instanceof UsageError)) throw error;
    console.error(`airlock: ${error.message} (see airlock ${command.name} --help)`);
    return 2;
  }
}

/** Where the command name is: the first argument that is neither an option nor the value of --config. */
function commandIndex(argv: string[]): number {
  for (let index = 0; index < argv.length; index++) {
    const arg = argv[index]!;
    if (arg === '--') return -1;
    if (optionsWithValue.has(arg)) index++;
    else if (!arg.startsWith('-')) return index;
  }
  return -1;
}

/** Exits once what was written has been handed to the OS: pipes are asynchronous on some platforms. */
async function exit(code: number): Promise<never> {
  await Promise.all([process.stdout, process.stderr].map((stream) => new Promise((resolve) => stream.write('', resolve))));
  process.exit(code);
}

main(process.argv.slice(2)).then(exit, async (error: unknown) => {
  // A failure, or a system error (EACCES on the config directory, say), says all a person needs in its message.
  if (error instanceof Failure || (error instanceof Error && 'syscall' in error)) {
    console.error(`airlock: ${error.message}`);
    return exit(1);
  }
  // Only the commands built on Airlock's libraries (the daemon, policy, recorded sessions) throw these: the people
  // commands need not load the module.
  const { AirlockError } = await import('@airlock/errors');
  const message = error instanceof AirlockError ? error.message : error instanceof Error ? (error.stack ?? error.message) : String(error);
  console.error(`airlock: ${message}`);
  return exit(error instanceof AirlockError ? 2 : 1);
});
