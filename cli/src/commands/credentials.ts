import { configDir } from '../people/config-dir.js';
import { toCredentialProcess } from '../people/credential-process.js';
import { resolveEndpoint } from '../people/endpoint.js';
import { loadLogin } from '../people/login-store.js';
import { roleCredentials } from '../people/role-credentials.js';
import { helpOption, parseOptions, roleArn, seconds } from './args.js';

export async function credentials(argv: string[]): Promise<number> {
  const { values } = parseOptions(argv, { role: { type: 'string' }, endpoint: { type: 'string' }, duration: { type: 'string' }, fresh: { type: 'boolean' }, ...helpOption });
  const role = roleArn(values.role);
  const durationSeconds = seconds(values.duration, '--duration', 900, 43_200);
  const dir = configDir();
  const endpoint = resolveEndpoint(values.endpoint, process.env, (await loadLogin(dir))?.endpoint);
  const issued = await roleCredentials({ dir, endpoint, roleArn: role, durationSeconds, fresh: values.fresh });
  console.log(JSON.stringify(toCredentialProcess(issued)));
  return 0;
}
