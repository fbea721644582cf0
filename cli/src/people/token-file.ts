import { join } from 'node:path';
import { writePrivateFile } from './config-dir.js';

/** The file `AWS_WEB_IDENTITY_TOKEN_FILE` names for `airlock env` and `airlock exec` (mode 0600). */
export const tokenFilePath = (dir: string): string => join(dir, 'web-identity-token');

export async function writeTokenFile(dir: string, token: string): Promise<string> {
  const path = tokenFilePath(dir);
  await writePrivateFile(path, token);
  return path;
}
