import { randomBytes } from 'node:crypto';
import { chmod, mkdir, open, readFile, rename, rm } from 'node:fs/promises';
import { homedir } from 'node:os';
import { dirname, isAbsolute, join, resolve } from 'node:path';

/**
 * Where a person's Airlock state lives: `$AIRLOCK_CONFIG_DIR`, else `$XDG_CONFIG_HOME/airlock` (when absolute, as the
 * XDG spec asks), else `~/.config/airlock`.
 */
export function configDir(env: NodeJS.ProcessEnv = process.env, home: string = homedir()): string {
  if (env.AIRLOCK_CONFIG_DIR) return resolve(env.AIRLOCK_CONFIG_DIR);
  const xdg = env.XDG_CONFIG_HOME;
  return join(xdg && isAbsolute(xdg) ? xdg : join(home, '.config'), 'airlock');
}

/** Creates the directory readable by its owner only (0700), and tightens it if it exists with wider rights. */
export async function ensurePrivateDir(dir: string): Promise<void> {
  await mkdir(dir, { recursive: true, mode: 0o700 });
  await chmod(dir, 0o700);
}

/**
 * Writes a file that only its owner may read (0600), atomically: a reader sees the old content or the new, never half,
 * and the content is never readable by others, not even for a moment (the mode is set when the file is created).
 */
export async function writePrivateFile(path: string, content: string): Promise<void> {
  await ensurePrivateDir(dirname(path));
  const temporary = `${path}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
  const handle = await open(temporary, 'wx', 0o600);
  try {
    await handle.writeFile(content);
    // The umask cannot widen 0600, but an explicit chmod documents the intent and survives odd filesystems.
    await handle.chmod(0o600);
  } finally {
    await handle.close();
  }
  try {
    await rename(temporary, path);
  } catch (error) {
    await rm(temporary, { force: true });
    throw error;
  }
}

/** The parsed JSON content of a file, or undefined when there is none. */
export async function readJsonFile<T>(path: string): Promise<T | undefined> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
  try {
    return JSON.parse(text) as T;
  } catch {
    return undefined;
  }
}
