import { randomBytes } from 'node:crypto';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { AirlockError } from '@airlock/errors';

/**
 * The session signing keys come from an environment variable. Only the embedded mode, which runs on one machine,
 * may create them itself: it keeps them in the data folder, readable by the owner alone.
 */
export async function readSessionKeys(variable: string, env: NodeJS.ProcessEnv, embeddedDataDir?: string): Promise<string> {
  const fromEnv = env[variable];
  if (fromEnv) return fromEnv;
  if (!embeddedDataDir) {
    throw new AirlockError('InvalidConfiguration', `${variable} is not set; every edge needs the same session keys ("kid:base64secret").`);
  }
  const path = join(embeddedDataDir, 'session-keys');
  try {
    return (await readFile(path, 'utf8')).trim();
  } catch {
    await mkdir(embeddedDataDir, { recursive: true });
    const value = `k${Date.now().toString(36)}:${randomBytes(32).toString('base64')}`;
    await writeFile(path, `${value}\n`, { mode: 0o600, flag: 'wx' }).catch(() => undefined);
    return (await readFile(path, 'utf8')).trim();
  }
}
