import { createHash, randomUUID } from 'node:crypto';
import { watch as watchPath, type FSWatcher } from 'node:fs';
import { stat } from 'node:fs/promises';
import { basename, dirname, resolve } from 'node:path';
import type { DecideRequest, DecideResponse } from '@airlock/contracts';
import type { Logger } from '@airlock/logging';
import type { PolicyMeta } from './annotations.js';
import { decide } from './decide.js';
import { prepareEvaluator, type Evaluate } from './evaluate.js';
import { loadPolicies, type PolicyBundle } from './load.js';

export interface PolicyEngineOptions {
  /** Cedar files and directories (every `*.cedar` directly inside, sorted by name), read in this order. */
  files: readonly string[];
  /** Relative `files` resolve against it. @default process.cwd() */
  baseDir?: string;
  logger: Logger;
  /** The clock for `context.time` when the request names no time. @default () => new Date() */
  now?: () => Date;
}

/** The policy set that is serving: everything a decision reads, swapped as one value on reload. */
export interface PolicySnapshot {
  /** 1 for the set loaded at start, +1 for every accepted reload. */
  readonly generation: number;
  /** `sha256:<16 hex>` over the policies' ids and texts: the same policies give the same version on every machine. */
  readonly version: string;
  readonly files: readonly string[];
  readonly meta: ReadonlyMap<string, PolicyMeta>;
  readonly loadedAt: Date;
  readonly evaluate: Evaluate;
  /** Some policy reads time-varying context, so no decision of this set may be reused. */
  readonly dependsOnTime: boolean;
}

export type ReloadResult =
  | { readonly ok: true; readonly generation: number; readonly version: string; readonly policies: number; readonly files: readonly string[] }
  /** The new files were rejected; `generation`/`version` are those of the set that keeps serving. */
  | { readonly ok: false; readonly error: string; readonly generation: number; readonly version: string };

export interface WatchOptions {
  /** Quiet time after the last file event before reloading, so that an editor's burst of writes is one reload. @default 250 */
  debounceMs?: number;
}

/**
 * Cedar policies loaded from files and directories, decided in process, reloadable while serving.
 *
 * `decide` is synchronous and reads the current snapshot once, so a decision runs entirely against one policy set even
 * when a reload lands meanwhile; `reload` parses the new set completely before it swaps the snapshot in one assignment,
 * and a bad file leaves the serving set untouched (logged, and returned as `{ ok: false }`).
 */
export class PolicyEngine {
  private current: PolicySnapshot;
  private slot: 0 | 1 = 0;
  private reloading: Promise<ReloadResult> = Promise.resolve({ ok: false, error: '', generation: 0, version: '' });
  private watchers: FSWatcher[] = [];
  private timer: NodeJS.Timeout | undefined;
  private closed = false;

  private constructor(
    private readonly options: PolicyEngineOptions,
    private readonly setIdPrefix: string,
    bundle: PolicyBundle,
  ) {
    this.current = this.prepare(bundle, 1, 0);
  }

  /** Loads and parses every file; throws AirlockError InvalidConfiguration with the file and Cedar's message when one is bad. */
  static async create(options: PolicyEngineOptions): Promise<PolicyEngine> {
    const bundle = await loadPolicies(PolicyEngine.loadOptions(options));
    return new PolicyEngine(options, `airlock-${randomUUID()}`, bundle);
  }

  private static loadOptions(options: PolicyEngineOptions) {
    return { files: options.files, ...(options.baseDir === undefined ? {} : { baseDir: options.baseDir }) };
  }

  /** The set that is serving now. */
  get snapshot(): PolicySnapshot {
    return this.current;
  }

  decide(request: DecideRequest): DecideResponse {
    const { evaluate, meta, version, dependsOnTime } = this.current;
    return { ...decide(request, evaluate, meta, this.options.now?.() ?? new Date()), policyVersion: version, dependsOnTime };
  }

  /** Airlock's reading of one loaded policy (its file, effect, reason, approval), by the id decisions name. */
  policy(id: string): PolicyMeta | undefined {
    return this.current.meta.get(id);
  }

  /**
   * Reads and parses the configured files again and swaps them in when every one is good. Reloads run one after
   * another, so a slow read can never replace a newer set with an older one.
   */
  reload(trigger = 'explicit'): Promise<ReloadResult> {
    const next = this.reloading.then(() => this.reloadNow(trigger));
    this.reloading = next;
    return next;
  }

  private async reloadNow(trigger: string): Promise<ReloadResult> {
    const logger = this.options.logger;
    const previous = this.current;
    try {
      const bundle = await loadPolicies(PolicyEngine.loadOptions(this.options));
      const slot = this.slot === 0 ? 1 : 0;
      // Prepared under the slot that is not serving; Cedar's cache then holds the serving set and this one.
      const snapshot = this.prepare(bundle, previous.generation + 1, slot);
      this.slot = slot;
      this.current = snapshot;
      logger.info(
        { trigger, generation: snapshot.generation, version: snapshot.version, previousVersion: previous.version, policies: snapshot.meta.size, files: snapshot.files },
        'policies reloaded',
      );
      return { ok: true, generation: snapshot.generation, version: snapshot.version, policies: snapshot.meta.size, files: snapshot.files };
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      logger.error(
        { trigger, error: message, generation: previous.generation, version: previous.version },
        'policy reload rejected; the previous policies keep serving',
      );
      return { ok: false, error: message, generation: previous.generation, version: previous.version };
    }
  }

  private prepare(bundle: PolicyBundle, generation: number, slot: 0 | 1): PolicySnapshot {
    const evaluate = prepareEvaluator(bundle, this.options.logger, `${this.setIdPrefix}-${slot}`);
    const dependsOnTime = [...bundle.meta.values()].some((policy) => policy.readsTime === true);
    return { generation, version: versionOf(bundle), files: bundle.files, meta: bundle.meta, loadedAt: new Date(), evaluate, dependsOnTime };
  }

  /**
   * Reloads when a configured file or directory changes. A file is watched through its directory, so that editors
   * that save by writing a new file and renaming it over the old one are still seen. Events are debounced.
   */
  async watch(options: WatchOptions = {}): Promise<void> {
    if (this.closed || this.watchers.length > 0) return;
    const debounceMs = options.debounceMs ?? 250;
    const baseDir = this.options.baseDir ?? process.cwd();
    const targets = new Map<string, Set<string> | 'all'>();
    for (const entry of this.options.files) {
      const path = resolve(baseDir, entry);
      const isDirectory = await stat(path).then((stats) => stats.isDirectory(), () => false);
      const dir = isDirectory ? path : dirname(path);
      const existing = targets.get(dir);
      if (isDirectory) targets.set(dir, 'all');
      else if (existing !== 'all') targets.set(dir, new Set([...(existing ?? []), basename(path)]));
    }
    const schedule = () => {
      if (this.closed) return;
      clearTimeout(this.timer);
      this.timer = setTimeout(() => void this.reload('watch'), debounceMs);
    };
    for (const [dir, names] of targets) {
      try {
        const watcher = watchPath(dir, { persistent: false }, (_event, filename) => {
          const name = filename?.toString();
          if (names === 'all' ? name === undefined || name.endsWith('.cedar') : name === undefined || names.has(name)) schedule();
        });
        watcher.on('error', (error) => this.options.logger.warn({ dir, error: error.message }, 'policy watch failed; reload with SIGHUP'));
        this.watchers.push(watcher);
      } catch (error) {
        this.options.logger.warn({ dir, error: error instanceof Error ? error.message : String(error) }, 'cannot watch policy files; reload with SIGHUP');
      }
    }
  }

  /** Stops watching; a reload already running finishes. Decisions keep working against the last set. */
  async close(): Promise<void> {
    this.closed = true;
    clearTimeout(this.timer);
    for (const watcher of this.watchers.splice(0)) watcher.close();
    await this.reloading;
  }
}

function versionOf(bundle: PolicyBundle): string {
  const hash = createHash('sha256');
  for (const [id, text] of Object.entries(bundle.policies)) hash.update(`${id}\0${text}\0`);
  return `sha256:${hash.digest('hex').slice(0, 16)}`;
}
