import type { SessionCredentials } from './sts.js';

/** The environment that points a stock AWS SDK or CLI at Airlock: variables to set, and variables to clear. */
export interface AgentEnvironment {
  set: Record<string, string>;
  unset: string[];
}

/**
 * Variables that would take precedence over what Airlock hands out in the SDKs' credential chains (static keys,
 * a named profile), so they are cleared.
 */
const OVERRIDING = ['AWS_ACCESS_KEY_ID', 'AWS_SECRET_ACCESS_KEY', 'AWS_SESSION_TOKEN', 'AWS_PROFILE', 'AWS_DEFAULT_PROFILE'];
const WEB_IDENTITY = ['AWS_WEB_IDENTITY_TOKEN_FILE', 'AWS_ROLE_ARN', 'AWS_ROLE_SESSION_NAME'];

export interface WebIdentitySource {
  kind: 'web-identity';
  tokenFile: string;
  roleArn: string;
  sessionName: string;
}

export interface CredentialsSource {
  kind: 'credentials';
  credentials: SessionCredentials;
}

/**
 * With a web identity (the default) the SDK calls AssumeRoleWithWebIdentity on Airlock itself, and again whenever its
 * session ends, re-reading the token file; no secret is in the environment. With credentials, the SDK uses the Airlock
 * session credentials as they are, until they expire.
 */
export function agentEnvironment(options: { endpoint: string; region?: string; source: WebIdentitySource | CredentialsSource }): AgentEnvironment {
  const set: Record<string, string> = { AWS_ENDPOINT_URL: options.endpoint };
  if (options.region) {
    set.AWS_REGION = options.region;
    set.AWS_DEFAULT_REGION = options.region;
  }
  const { source } = options;
  if (source.kind === 'web-identity') {
    set.AWS_WEB_IDENTITY_TOKEN_FILE = source.tokenFile;
    set.AWS_ROLE_ARN = source.roleArn;
    set.AWS_ROLE_SESSION_NAME = source.sessionName;
    return { set, unset: [...OVERRIDING] };
  }
  set.AWS_ACCESS_KEY_ID = source.credentials.accessKeyId;
  set.AWS_SECRET_ACCESS_KEY = source.credentials.secretAccessKey;
  set.AWS_SESSION_TOKEN = source.credentials.sessionToken;
  set.AWS_CREDENTIAL_EXPIRATION = source.credentials.expiration.toISOString();
  return { set, unset: [...OVERRIDING.filter((name) => !(name in set)), ...WEB_IDENTITY] };
}

/** POSIX shell lines (`unset …`, `export NAME='value'`) for `eval "$(airlock env …)"`. */
export function renderExports(environment: AgentEnvironment): string {
  const lines = environment.unset.length > 0 ? [`unset ${environment.unset.join(' ')}`] : [];
  for (const [name, value] of Object.entries(environment.set)) lines.push(`export ${name}=${shellQuote(value)}`);
  return `${lines.join('\n')}\n`;
}

/** The child process environment: the parent's, less what is cleared, plus what is set. */
export function applyEnvironment(base: NodeJS.ProcessEnv, environment: AgentEnvironment): NodeJS.ProcessEnv {
  const next: NodeJS.ProcessEnv = { ...base };
  for (const name of environment.unset) delete next[name];
  return { ...next, ...environment.set };
}

export function shellQuote(value: string): string {
  return `'${value.replace(/'/g, `'\\''`)}'`;
}
