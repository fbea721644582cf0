import { UsageError } from './errors.js';

/** Airlock's endpoint: `--endpoint`, else `$AIRLOCK_ENDPOINT`, else the one saved at login. */
export function resolveEndpoint(flag: string | undefined, env: NodeJS.ProcessEnv, saved: string | undefined): string {
  const endpoint = flag ?? (env.AIRLOCK_ENDPOINT || undefined) ?? saved;
  if (!endpoint) throw new UsageError('no Airlock endpoint: pass --endpoint URL, set AIRLOCK_ENDPOINT, or log in with --endpoint');
  return checkEndpoint(endpoint);
}

/** An http(s) URL without trailing slashes; `what` names it in the usage error otherwise ("the endpoint"). */
export function checkEndpoint(endpoint: string, what = 'the endpoint'): string {
  let url: URL;
  try {
    url = new URL(endpoint);
  } catch {
    throw new UsageError(`${what} ${JSON.stringify(endpoint)} is not a URL`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new UsageError(`${what} ${endpoint} must be an http or https URL`);
  return endpoint.replace(/\/+$/, '');
}
