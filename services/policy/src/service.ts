import { PolicyServiceService } from '@airlock/contracts';
import type { Logger } from '@airlock/logging';
import type { ServiceRuntime } from '@airlock/transport';
import { AirlockError } from '@airlock/errors';
import { PolicyEngine, type ReloadResult, type WatchOptions } from './engine.js';
import { ShadowEvaluator } from './shadow.js';

export interface PolicyServiceOptions {
  /** Cedar policy files and directories (every `*.cedar` directly inside, sorted by name), read in this order. */
  files: readonly string[];
  /** Relative `files` resolve against it. @default process.cwd() */
  baseDir?: string;
  logger: Logger;
  /** Once started, reload when a policy file or directory changes; `false` turns it off. @default true (250 ms debounce) */
  watch?: boolean | WatchOptions;
  /** Once started, reload when the process receives this signal; `false` turns it off. @default "SIGHUP" */
  reloadSignal?: NodeJS.Signals | false;
  /**
   * Shadow mode: a candidate policy set (files and directories, like `files`) that decides every call beside the live
   * set without changing its answer; differences are logged (`event: "policy.shadow.diff"`) and counted. It is watched
   * and reloaded with the live set.
   */
  shadow?: {
    files: readonly string[];
    /** How often the running counts are logged (`event: "policy.shadow.summary"`) while calls are compared. @default 60 */
    reportSeconds?: number;
  };
}

export interface PolicyServiceRuntime extends ServiceRuntime<typeof PolicyServiceService> {
  readonly engine: PolicyEngine;
  /** Reloads the policy files now (what SIGHUP does). A bad file is rejected and the previous set keeps serving. */
  reload(): Promise<ReloadResult>;
  /** Present in shadow mode: the candidate set and its counts. */
  readonly shadow?: ShadowEvaluator;
}

/**
 * Loads and parses every policy file before it returns, so that a bad file stops the service at boot with the file,
 * position and Cedar's message (AirlockError InvalidConfiguration) instead of denying calls later. After boot, a bad
 * file only fails its reload: the service keeps deciding with the last good set.
 */
export async function createPolicyService(options: PolicyServiceOptions): Promise<PolicyServiceRuntime> {
  const logger = options.logger;
  const engine = await PolicyEngine.create(options);
  const { snapshot } = engine;
  logger.info({ files: snapshot.files, policies: snapshot.meta.size, version: snapshot.version }, 'policies loaded');
  const shadow = options.shadow ? new ShadowEvaluator(await createCandidate(options, options.shadow.files), logger) : undefined;
  let summaries: NodeJS.Timeout | undefined;
  const engines = shadow ? [engine, shadow.candidate] : [engine];
  const signal = options.reloadSignal ?? 'SIGHUP';
  const reloadAll = async (trigger: string) => {
    const [live, candidate] = await Promise.all(engines.map((each) => each.reload(trigger)));
    if (candidate !== undefined && !candidate.ok) logger.error({ event: 'policy.shadow.reload', error: candidate.error }, 'shadow policy reload rejected');
    return live as ReloadResult;
  };
  const onSignal = () => void reloadAll(signal === false ? 'signal' : signal);
  return {
    name: 'policy',
    definition: PolicyServiceService,
    implementation: {
      decide: async (request) => {
        const version = engine.snapshot.version;
        const response = engine.decide(request);
        // After the live answer is on its way: the candidate never delays or changes it.
        if (shadow) setImmediate(() => shadow.observe(request, response, version));
        return response;
      },
    },
    engine,
    ...(shadow ? { shadow } : {}),
    reload: () => reloadAll('explicit'),
    start: async () => {
      const watch = options.watch ?? true;
      if (watch !== false) for (const each of engines) await each.watch(watch === true ? {} : watch);
      if (signal !== false) process.on(signal, onSignal);
      if (shadow) {
        summaries = setInterval(() => shadow.report(), (options.shadow?.reportSeconds ?? 60) * 1000);
        summaries.unref();
      }
    },
    close: async () => {
      clearInterval(summaries);
      shadow?.report();
      if (signal !== false) process.off(signal, onSignal);
      await Promise.all(engines.map((each) => each.close()));
    },
  };
}

async function createCandidate(options: PolicyServiceOptions, files: readonly string[]): Promise<PolicyEngine> {
  try {
    return await PolicyEngine.create({ files, logger: options.logger, ...(options.baseDir === undefined ? {} : { baseDir: options.baseDir }) });
  } catch (error) {
    throw new AirlockError('InvalidConfiguration', `Shadow policy set: ${error instanceof Error ? error.message : String(error)}`, { cause: error });
  }
}
