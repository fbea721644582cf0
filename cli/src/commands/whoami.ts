import { adminApi } from '../people/admin-api.js';
import { configDir } from '../people/config-dir.js';
import { currentToken } from '../people/current-token.js';
import { resolveEndpoint } from '../people/endpoint.js';
import { helpOption, parseOptions } from './args.js';

export async function whoami(argv: string[]): Promise<number> {
  const { values } = parseOptions(argv, { endpoint: { type: 'string' }, json: { type: 'boolean' }, ...helpOption });
  const dir = configDir();
  const token = await currentToken(dir);
  const endpoint = resolveEndpoint(values.endpoint, process.env, token.login.endpoint);
  const seen = await adminApi(endpoint, token.token).whoami();
  if (values.json) {
    console.log(JSON.stringify(seen, null, 2));
    return 0;
  }
  const rows: [string, string][] = [
    ['subject', seen.subject],
    ['issuer', seen.issuer],
    ['name', seen.name || '-'],
    ['email', seen.email || '-'],
    ['groups', Array.isArray(seen.groups) && seen.groups.length > 0 ? seen.groups.join(', ') : '-'],
    ['admin', seen.admin ? 'yes' : 'no'],
  ];
  console.log(rows.map(([label, value]) => `${label.padEnd(8)}${value}`).join('\n'));
  return 0;
}
