import { rm } from 'node:fs/promises';
import { configDir } from '../people/config-dir.js';
import { mergeTokens } from '../people/current-token.js';
import { clearCredentialCache } from '../people/credential-cache.js';
import { pollForTokens, startDeviceAuthorization } from '../people/device-flow.js';
import { checkEndpoint } from '../people/endpoint.js';
import { Failure } from '../people/errors.js';
import { displayName } from '../people/jwt.js';
import { loadLogin, removeLogin, saveLogin, type StoredLogin } from '../people/login-store.js';
import { defaultScope, discover } from '../people/oidc.js';
import { presentedToken } from '../people/presented-token.js';
import { tokenFilePath } from '../people/token-file.js';
import { helpOption, parseOptions, required } from './args.js';

export async function login(argv: string[]): Promise<number> {
  const { values } = parseOptions(argv, {
    issuer: { type: 'string' },
    'client-id': { type: 'string' },
    audience: { type: 'string' },
    scope: { type: 'string' },
    endpoint: { type: 'string' },
    region: { type: 'string' },
    ...helpOption,
  });
  const dir = configDir();
  const previous = await loadLogin(dir);
  const issuer = checkEndpoint(required(values.issuer ?? previous?.issuer, '--issuer'), 'the issuer');
  const clientId = required(values['client-id'] ?? (issuer === previous?.issuer ? previous.clientId : undefined), '--client-id');
  const audience = values.audience ?? (issuer === previous?.issuer && clientId === previous.clientId ? previous.audience : undefined);
  const scope = values.scope ?? defaultScope;
  const endpoint = values.endpoint ? checkEndpoint(values.endpoint) : previous?.endpoint;
  const region = values.region ?? previous?.region;

  const endpoints = await discover(issuer);
  const authorization = await startDeviceAuthorization({ endpoint: endpoints.deviceAuthorizationEndpoint, clientId, scope, audience });
  process.stderr.write(
    `To sign in, open ${authorization.verificationUri} and enter the code ${authorization.userCode}\n` +
      (authorization.verificationUriComplete ? `  (or open ${authorization.verificationUriComplete})\n` : '') +
      `Waiting for you to approve (the code is valid for ${Math.round(authorization.expiresInSeconds / 60)} minutes)…\n`,
  );
  const answer = await pollForTokens(authorization, { tokenEndpoint: endpoints.tokenEndpoint, clientId });

  const blank: StoredLogin = {
    version: 1,
    issuer,
    clientId,
    scope,
    tokenEndpoint: endpoints.tokenEndpoint,
    obtainedAt: new Date().toISOString(),
    ...(audience ? { audience } : {}),
    ...(endpoint ? { endpoint } : {}),
    ...(region ? { region } : {}),
  };
  const stored = mergeTokens(blank, answer, new Date());
  const presented = presentedToken(stored);
  if (!presented) {
    throw new Failure(
      `the identity provider returned neither an ID token (ask for the openid scope) nor a JWT access token for audience ${audience ?? '(none given: pass --audience)'}`,
    );
  }
  await saveLogin(dir, stored);
  await clearCredentialCache(dir);
  await rm(tokenFilePath(dir), { force: true });
  const refresh = stored.refreshToken ? 'refreshed automatically' : 'not refreshable (no refresh token: ask for offline_access)';
  console.log(
    `Logged in to ${issuer} as ${displayName(presented.claims)}. Airlock will be shown the ${presented.kind} ` +
      `(audience ${[presented.claims.aud].flat().join(', ')}), valid until ${presented.expiresAt.toISOString()}, ${refresh}.`,
  );
  return 0;
}

export async function logout(argv: string[]): Promise<number> {
  parseOptions(argv, helpOption);
  const dir = configDir();
  const existed = await removeLogin(dir);
  await clearCredentialCache(dir);
  await rm(tokenFilePath(dir), { force: true });
  console.log(existed ? 'Logged out.' : 'Not logged in.');
  return 0;
}
