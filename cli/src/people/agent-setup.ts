import { agentEnvironment, type AgentEnvironment } from './agent-env.js';
import { currentToken } from './current-token.js';
import type { Fetch } from './http.js';
import { displayName } from './jwt.js';
import { roleCredentials } from './role-credentials.js';
import { roleSessionName } from './sts.js';
import { writeTokenFile } from './token-file.js';

export interface AgentSetup {
  dir: string;
  endpoint: string;
  roleArn: string;
  region?: string;
  /** `web-identity` (default): a token file and a role; `credentials`: Airlock session credentials themselves. */
  mode: 'web-identity' | 'credentials';
  durationSeconds?: number;
  fetch?: Fetch;
}

/** The environment of `airlock env` and `airlock exec`, with the token file written (0600) when one is used. */
export async function prepareAgentEnvironment(setup: AgentSetup): Promise<AgentEnvironment> {
  if (setup.mode === 'credentials') {
    const credentials = await roleCredentials(setup);
    return agentEnvironment({ endpoint: setup.endpoint, region: setup.region, source: { kind: 'credentials', credentials } });
  }
  const token = await currentToken(setup.dir, { fetch: setup.fetch });
  const tokenFile = await writeTokenFile(setup.dir, token.token);
  return agentEnvironment({
    endpoint: setup.endpoint,
    region: setup.region,
    source: { kind: 'web-identity', tokenFile, roleArn: setup.roleArn, sessionName: roleSessionName(displayName(token.claims)) },
  });
}

/**
 * Keeps the token file fresh while a command runs under `airlock exec`: SDKs re-read it each time their Airlock
 * session ends, so a long-running command keeps working past the lifetime of the token it started with.
 */
export function keepTokenFileFresh(dir: string, onError: (message: string) => void, everyMs = 60_000): () => void {
  let last: string | undefined;
  let warned = false;
  const timer = setInterval(() => {
    currentToken(dir)
      .then(async (token) => {
        if (token.token !== last) await writeTokenFile(dir, token.token);
        last = token.token;
      })
      .catch((error: unknown) => {
        if (!warned) onError(error instanceof Error ? error.message : String(error));
        warned = true;
      });
  }, everyMs);
  timer.unref();
  return () => clearInterval(timer);
}
