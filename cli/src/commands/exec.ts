import { spawn } from 'node:child_process';
import { constants } from 'node:os';
import { applyEnvironment } from '../people/agent-env.js';
import { keepTokenFileFresh, prepareAgentEnvironment } from '../people/agent-setup.js';
import { UsageError } from '../people/errors.js';
import { parseOptions } from './args.js';
import { agentOptions, agentSetupFrom } from './env.js';

const FORWARDED: NodeJS.Signals[] = ['SIGINT', 'SIGTERM', 'SIGHUP', 'SIGQUIT', 'SIGUSR1', 'SIGUSR2'];

export async function exec(argv: string[]): Promise<number> {
  const split = argv.indexOf('--');
  if (split < 0 || split === argv.length - 1) throw new UsageError('name the command after --, e.g. airlock exec --role ARN -- aws sts get-caller-identity');
  const { values } = parseOptions(argv.slice(0, split), agentOptions);
  const [command, ...args] = argv.slice(split + 1) as [string, ...string[]];
  const setup = await agentSetupFrom(values);
  const environment = await prepareAgentEnvironment(setup);
  const stopRefreshing =
    setup.mode === 'web-identity' ? keepTokenFileFresh(setup.dir, (message) => process.stderr.write(`airlock: could not refresh the token file: ${message}\n`)) : () => {};
  try {
    return await runChild(command, args, applyEnvironment(process.env, environment));
  } finally {
    stopRefreshing();
  }
}

/** Runs a child with the terminal, forwarding signals; resolves to its exit code, or 128 + signal number. */
function runChild(command: string, args: string[], childEnv: NodeJS.ProcessEnv): Promise<number> {
  return new Promise((resolve) => {
    const child = spawn(command, args, { stdio: 'inherit', env: childEnv });
    const forward = (signal: NodeJS.Signals) => {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
    };
    for (const signal of FORWARDED) process.on(signal, forward);
    let settled = false;
    const done = (code: number) => {
      if (settled) return;
      settled = true;
      for (const signal of FORWARDED) process.off(signal, forward);
      resolve(code);
    };
    child.once('error', (error: NodeJS.ErrnoException) => {
      process.stderr.write(`airlock: cannot run ${command}: ${error.code === 'ENOENT' ? 'command not found' : error.message}\n`);
      done(error.code === 'ENOENT' ? 127 : 126);
    });
    child.once('exit', (code, signal) => done(signal ? 128 + (constants.signals[signal] ?? 0) : (code ?? 1)));
  });
}
