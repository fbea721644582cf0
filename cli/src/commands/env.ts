import { renderExports } from '../people/agent-env.js';
import { prepareAgentEnvironment } from '../people/agent-setup.js';
import { configDir } from '../people/config-dir.js';
import { resolveEndpoint } from '../people/endpoint.js';
import { loadLogin } from '../people/login-store.js';
import { helpOption, parseOptions, roleArn, seconds } from './args.js';

export const agentOptions = {
  role: { type: 'string' },
  endpoint: { type: 'string' },
  region: { type: 'string' },
  credentials: { type: 'boolean' },
  duration: { type: 'string' },
  ...helpOption,
} as const;

/** What env and exec share: the role, the endpoint, the region and the way credentials are handed over. */
export async function agentSetupFrom(values: { role?: string; endpoint?: string; region?: string; credentials?: boolean; duration?: string }) {
  const role = roleArn(values.role);
  const durationSeconds = seconds(values.duration, '--duration', 900, 43_200);
  const dir = configDir();
  const saved = await loadLogin(dir);
  const endpoint = resolveEndpoint(values.endpoint, process.env, saved?.endpoint);
  const region = values.region ?? saved?.region ?? (process.env.AWS_REGION || process.env.AWS_DEFAULT_REGION || undefined);
  return { dir, endpoint, roleArn: role, region, durationSeconds, mode: values.credentials ? ('credentials' as const) : ('web-identity' as const) };
}

export async function env(argv: string[]): Promise<number> {
  const { values } = parseOptions(argv, agentOptions);
  const environment = await prepareAgentEnvironment(await agentSetupFrom(values));
  process.stdout.write(renderExports(environment));
  return 0;
}
