import { chmod, mkdtemp, readdir, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { configDir, readJsonFile, writePrivateFile } from './config-dir.js';
import { loadLogin, saveLogin, type StoredLogin } from './login-store.js';

describe('configDir', () => {
  it('prefers $AIRLOCK_CONFIG_DIR, then $XDG_CONFIG_HOME/airlock, then ~/.config/airlock', () => {
    expect(configDir({ AIRLOCK_CONFIG_DIR: '/etc/mine', XDG_CONFIG_HOME: '/xdg' }, '/home/p')).toBe('/etc/mine');
    expect(configDir({ XDG_CONFIG_HOME: '/xdg' }, '/home/p')).toBe('/xdg/airlock');
    expect(configDir({}, '/home/p')).toBe('/home/p/.config/airlock');
  });

  it('ignores a relative $XDG_CONFIG_HOME, as the XDG specification asks', () => {
    expect(configDir({ XDG_CONFIG_HOME: 'relative' }, '/home/p')).toBe('/home/p/.config/airlock');
  });
});

describe('token storage', () => {
  let scratch: string;
  beforeEach(async () => {
    scratch = await mkdtemp(join(tmpdir(), 'airlock-store-'));
  });
  afterEach(async () => {
    await rm(scratch, { recursive: true, force: true });
  });

  const login: StoredLogin = {
    version: 1,
    issuer: 'https://idp.example.com',
    clientId: 'airlock-cli',
    scope: 'openid',
    tokenEndpoint: 'https://idp.example.com/token',
    idToken: 'a.b.c',
    refreshToken: 'refresh',
    obtainedAt: '2025-01-01T00:00:00.000Z',
  };

  it('keeps the login in a 0600 file inside a 0700 directory, even under a permissive umask', async () => {
    const dir = join(scratch, 'nested/airlock');
    const previous = process.umask(0o000);
    try {
      await saveLogin(dir, login);
    } finally {
      process.umask(previous);
    }
    expect((await stat(dir)).mode & 0o777).toBe(0o700);
    expect((await stat(join(dir, 'login.json'))).mode & 0o777).toBe(0o600);
    expect(await loadLogin(dir)).toEqual(login);
  });

  it('tightens an existing directory and file that others could read', async () => {
    const dir = join(scratch, 'airlock');
    await saveLogin(dir, login);
    await chmod(dir, 0o755);
    await chmod(join(dir, 'login.json'), 0o644);
    await saveLogin(dir, { ...login, refreshToken: 'rotated' });
    expect((await stat(dir)).mode & 0o777).toBe(0o700);
    expect((await stat(join(dir, 'login.json'))).mode & 0o777).toBe(0o600);
    expect((await loadLogin(dir))?.refreshToken).toBe('rotated');
  });

  it('replaces files atomically, leaving no temporary file behind', async () => {
    const path = join(scratch, 'file.json');
    await writePrivateFile(path, '{"a":1}');
    await writePrivateFile(path, '{"a":2}');
    expect(await readFile(path, 'utf8')).toBe('{"a":2}');
    expect(await readdir(scratch)).toEqual(['file.json']);
  });

  it('reads a missing or corrupt file as nothing', async () => {
    expect(await readJsonFile(join(scratch, 'missing.json'))).toBeUndefined();
    await writePrivateFile(join(scratch, 'corrupt.json'), '{not json');
    expect(await readJsonFile(join(scratch, 'corrupt.json'))).toBeUndefined();
    expect(await loadLogin(scratch)).toBeUndefined();
  });
});
