import { open, rm, stat } from 'node:fs/promises';
import { dirname } from 'node:path';
import { ensurePrivateDir } from './config-dir.js';
import { Failure } from './errors.js';

const STALE_MS = 30_000;
const WAIT_MS = 15_000;
const STEP_MS = 100;

/**
 * Runs `work` while holding an exclusive lock file. Refresh tokens are often single-use (rotated): two processes that
 * refresh at once (parallel `credential_process` calls) would present the same one, and the IdP may revoke the whole
 * grant on the reuse. A lock older than 30 s is taken to be left by a dead process.
 */
export async function withFileLock<T>(path: string, work: () => Promise<T>): Promise<T> {
  await ensurePrivateDir(dirname(path));
  const giveUpAt = Date.now() + WAIT_MS;
  for (;;) {
    try {
      const handle = await open(path, 'wx', 0o600);
      await handle.close();
      break;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      const held = await stat(path).catch(() => undefined);
      if (held && Date.now() - held.mtimeMs > STALE_MS) await rm(path, { force: true });
      else if (Date.now() > giveUpAt) throw new Failure(`another airlock process holds ${path}; remove it if no airlock is running`);
      else await new Promise((resolve) => setTimeout(resolve, STEP_MS));
    }
  }
  try {
    return await work();
  } finally {
    await rm(path, { force: true });
  }
}
