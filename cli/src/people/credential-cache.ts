import { createHash } from 'node:crypto';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { readJsonFile, writePrivateFile } from './config-dir.js';
import { fromCredentialProcess, toCredentialProcess, type CredentialProcessOutput } from './credential-process.js';
import type { SessionCredentials } from './sts.js';

/** Cached credentials are used until five minutes before they expire, like the AWS SDKs' own refresh window. */
export const CACHE_MARGIN_MS = 5 * 60 * 1000;

/** What the cached credentials were bought with: who, where, which role, for how long. */
export interface CacheKey {
  issuer: string;
  subject: string;
  endpoint: string;
  roleArn: string;
  durationSeconds?: number;
}

const cacheDir = (dir: string): string => join(dir, 'credentials');
const cachePath = (dir: string, key: CacheKey): string =>
  join(cacheDir(dir), `${createHash('sha256').update(JSON.stringify([key.issuer, key.subject, key.endpoint, key.roleArn, key.durationSeconds ?? null])).digest('hex').slice(0, 32)}.json`);

export async function cachedCredentials(dir: string, key: CacheKey, now: Date): Promise<SessionCredentials | undefined> {
  const stored = await readJsonFile<CredentialProcessOutput>(cachePath(dir, key));
  if (!stored || stored.Version !== 1 || typeof stored.AccessKeyId !== 'string') return undefined;
  const credentials = fromCredentialProcess(stored);
  return credentials.expiration.getTime() - now.getTime() > CACHE_MARGIN_MS ? credentials : undefined;
}

export async function cacheCredentials(dir: string, key: CacheKey, credentials: SessionCredentials): Promise<void> {
  await writePrivateFile(cachePath(dir, key), `${JSON.stringify(toCredentialProcess(credentials))}\n`);
}

/** Forgets every cached credential: after login as someone else, or logout. */
export async function clearCredentialCache(dir: string): Promise<void> {
  await rm(cacheDir(dir), { recursive: true, force: true });
}
