import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import type { AirlockConfig } from '@airlock/config';
import { startConsole, type PolicyResponse, type RecorderQueries, type RunningConsole } from '@airlock/console';
import type { Bus } from '@airlock/bus';
import { AirlockError } from '@airlock/errors';
import type { Logger } from '@airlock/logging';
import { resolvePolicyFiles, validatePolicies } from '@airlock/policy';

export interface ConsoleDependencies {
  recorder: RecorderQueries;
  bus: Pick<Bus, 'watch'>;
  /** This process's edge, in embedded mode: the admin API the console uses unless console.edgeUrl names another. */
  localEdgeUrl?: string;
}

/**
 * The web console, when `console` is configured: started beside the others by `airlock dev`, or alone by
 * `airlock serve console`. Its client secret comes only from the environment variable the configuration names.
 */
export async function startConfiguredConsole(config: AirlockConfig, dependencies: ConsoleDependencies, logger: Logger): Promise<RunningConsole | undefined> {
  const settings = config.console;
  if (!settings) return undefined;
  const edgeUrl = settings.edgeUrl ?? dependencies.localEdgeUrl;
  if (!edgeUrl) throw new AirlockError('InvalidConfiguration', 'console.edgeUrl is required to serve the console on its own (the edge whose admin API it calls).');
  let clientSecret: string | undefined;
  if (settings.oidc.clientSecretEnv) {
    clientSecret = process.env[settings.oidc.clientSecretEnv];
    if (!clientSecret) throw new AirlockError('InvalidConfiguration', `The console needs the environment variable ${settings.oidc.clientSecretEnv} set (console.oidc.clientSecretEnv).`);
  }
  const trusted = config.identity.issuers.some((issuer) => issuer.issuer === settings.oidc.issuer);
  if (!trusted) logger.warn({ issuer: settings.oidc.issuer }, 'console.oidc.issuer is not one of identity.issuers: the edge will refuse the tokens people sign in with');
  return startConsole({
    listen: settings.listen,
    ...(settings.publicUrl ? { publicUrl: settings.publicUrl } : {}),
    edgeUrl,
    oidc: {
      issuer: settings.oidc.issuer,
      clientId: settings.oidc.clientId,
      scope: settings.oidc.scope,
      ...(clientSecret ? { clientSecret } : {}),
      ...(settings.oidc.audience ? { audience: settings.oidc.audience } : {}),
    },
    sessionSeconds: settings.sessionSeconds,
    recorder: dependencies.recorder,
    bus: dependencies.bus,
    policy: () => policyInForce(config.policy.files),
    logger,
  });
}

/**
 * The policy files as the policy service reads them (the same expansion of directories, the same validation). The
 * console reads the files itself because no contract carries policy text yet; it shows what the files say now, and
 * names any problem that makes the policy service keep its previous set.
 */
async function policyInForce(paths: readonly string[]): Promise<PolicyResponse> {
  const report = await validatePolicies({ files: paths });
  let files: PolicyResponse['files'] = [];
  try {
    const resolved = await resolvePolicyFiles({ files: paths });
    files = await Promise.all(resolved.map(async (file) => ({ path: file.label, text: await readFile(file.path, 'utf8') })));
  } catch {
    // validatePolicies has named the file that cannot be read.
  }
  const digest = createHash('sha256');
  for (const file of files) digest.update(`${file.path}\0${file.text}\0`);
  return { version: `sha256:${digest.digest('hex').slice(0, 16)}`, policies: report.policies, files, problems: [...report.problems] };
}
