import { readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { AirlockError } from '@airlock/errors';

/**
 * One process per data folder: two processes writing the same files would corrupt them or lose each other's
 * writes. Within a process the folder is shared through a registry instead (see `createFolderRegistry`), so a
 * lock held by this very process is a leftover.
 *
 * Takes `dir/LOCK` and returns the function that releases it; `what` names the folder's user in errors.
 */
export async function lockDir(dir: string, what: string): Promise<() => Promise<void>> {
  const path = join(dir, 'LOCK');
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      await writeFile(path, String(process.pid), { flag: 'wx' });
      return async () => {
        await rm(path, { force: true });
      };
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    }
    const owner = Number((await readFile(path, 'utf8').catch(() => '')).trim());
    if (Number.isSafeInteger(owner) && owner > 0 && owner !== process.pid && isAlive(owner)) {
      throw new AirlockError(
        'InvalidConfiguration',
        `The ${what} data folder ${dir} is in use by process ${owner}; stop it or choose another folder.`,
      );
    }
    await rm(path, { force: true });
  }
  throw new AirlockError('InvalidConfiguration', `Could not lock the ${what} data folder ${dir}.`);
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}
