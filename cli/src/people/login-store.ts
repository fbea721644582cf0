import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { readJsonFile, writePrivateFile } from './config-dir.js';

/** What `airlock login` keeps in the config directory (login.json, mode 0600). */
export interface StoredLogin {
  version: 1;
  issuer: string;
  clientId: string;
  /** The audience asked for at login; a JWT access token for it is presented instead of the ID token. */
  audience?: string;
  scope: string;
  tokenEndpoint: string;
  /** Airlock's endpoint, when given at login (`--endpoint`). */
  endpoint?: string;
  /** AWS region for `airlock env` / `exec`, when given at login (`--region`). */
  region?: string;
  accessToken?: string;
  /** ISO time, from the token response's expires_in. */
  accessTokenExpiresAt?: string;
  idToken?: string;
  refreshToken?: string;
  /** ISO time the tokens were last obtained or refreshed. */
  obtainedAt: string;
}

export const loginFile = (dir: string): string => join(dir, 'login.json');

export async function loadLogin(dir: string): Promise<StoredLogin | undefined> {
  const stored = await readJsonFile<StoredLogin>(loginFile(dir));
  return stored?.version === 1 && typeof stored.issuer === 'string' && typeof stored.tokenEndpoint === 'string' ? stored : undefined;
}

export async function saveLogin(dir: string, login: StoredLogin): Promise<void> {
  await writePrivateFile(loginFile(dir), `${JSON.stringify(login, null, 2)}\n`);
}

export async function removeLogin(dir: string): Promise<boolean> {
  const existed = (await loadLogin(dir)) !== undefined;
  await rm(loginFile(dir), { force: true });
  return existed;
}
