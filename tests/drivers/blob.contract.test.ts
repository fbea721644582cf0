import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AirlockError } from '@airlock/errors';
import { createFileBlobStore, createS3BlobStore, type BlobEntry, type BlobStore } from '@airlock/blob';
import { freePort, startMoto, type Peer } from '../support/peers.js';
import { folderDriver, useDriver, type ContractDriver } from './contract-harness.js';

type BlobDriver = ContractDriver<BlobStore>;

/** The SDK's default chain reads these; the store itself never takes keys. Restored afterwards. */
const AWS_ENV = { AWS_ACCESS_KEY_ID: 'test', AWS_SECRET_ACCESS_KEY: 'test', AWS_REGION: 'us-east-1' };
let savedEnv: Record<string, string | undefined> = {};
function useAwsTestEnv(): void {
  savedEnv = Object.fromEntries(Object.keys(AWS_ENV).map((k) => [k, process.env[k]]));
  Object.assign(process.env, AWS_ENV);
}
function restoreAwsEnv(): void {
  for (const [k, v] of Object.entries(savedEnv)) {
    if (v === undefined) delete process.env[k];
    else process.env[k] = v;
  }
}

function s3Driver(): BlobDriver {
  let moto: Peer | undefined;
  return {
    name: 's3',
    async setup() {
      useAwsTestEnv();
      moto = await startMoto();
    },
    open: () => createS3BlobStore({ bucket: 'airlock-contract', endpoint: moto?.url ?? '', forcePathStyle: true, createBucket: true }),
    async teardown() {
      await moto?.stop();
      restoreAwsEnv();
    },
  };
}

function fileDriver(): BlobDriver {
  return folderDriver('file', 'airlock-blob-file-', (dir) => createFileBlobStore({ dir }));
}

const str = (b: Uint8Array | null): string | null => (b === null ? null : new TextDecoder().decode(b));

async function all(iterable: AsyncIterable<BlobEntry>): Promise<BlobEntry[]> {
  const out: BlobEntry[] = [];
  for await (const entry of iterable) out.push(entry);
  return out;
}

describe.each([s3Driver(), fileDriver()])('BlobStore contract: $name', (driver) => {
  const { client } = useDriver(driver);
  let n = 0;
  /** Each test gets its own key space. */
  const ns = (): string => `t${++n}/`;

  it('puts and gets strings and bytes, replaces on put, and answers null for a missing key', async () => {
    const store = await client();
    const k = ns();
    await store.put(`${k}hello.txt`, 'hello', { contentType: 'text/plain' });
    expect(str(await store.get(`${k}hello.txt`))).toBe('hello');

    const bytes = Uint8Array.from({ length: 256 }, (_, i) => i);
    await store.put(`${k}bytes.bin`, bytes);
    expect(await store.get(`${k}bytes.bin`)).toEqual(bytes);

    await store.put(`${k}hello.txt`, 'replaced');
    expect(str(await store.get(`${k}hello.txt`))).toBe('replaced');

    await store.put(`${k}empty`, new Uint8Array());
    expect(await store.get(`${k}empty`)).toEqual(new Uint8Array());

    expect(await store.get(`${k}missing`)).toBeNull();
    expect(await store.get(`${k}hello.txt/below`)).toBeNull();
  });

  it('lists by prefix in lexicographic (UTF-8 byte) order with sizes', async () => {
    const store = await client();
    const k = ns();
    const keys = [
      'sessions/s2/0002.json',
      'sessions/s1/0010.json',
      'sessions/s1/0002.json',
      'sessions/s1',
      'sessions/s1-archive',
      'sessions/s10/0001.json',
      'sessions/ü/1',
      'sessions/😀/1',
      'sessions/\uffff/1',
      'other/x',
    ];
    for (const key of keys) await store.put(`${k}${key}`, `body of ${key}`);

    const listed = await all(store.list(`${k}sessions/`));
    const expected = keys
      .filter((key) => key.startsWith('sessions/'))
      .map((key) => `${k}${key}`)
      .sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b)));
    expect(listed.map((e) => e.key)).toEqual(expected);
    expect(listed.find((e) => e.key === `${k}sessions/s1`)?.size).toBe(Buffer.byteLength('body of sessions/s1'));

    expect((await all(store.list(`${k}sessions/s1/`))).map((e) => e.key)).toEqual([
      `${k}sessions/s1/0002.json`,
      `${k}sessions/s1/0010.json`,
    ]);
    expect((await all(store.list(`${k}sessions/s1`))).map((e) => e.key)).toEqual([
      `${k}sessions/s1`,
      `${k}sessions/s1-archive`,
      `${k}sessions/s1/0002.json`,
      `${k}sessions/s1/0010.json`,
      `${k}sessions/s10/0001.json`,
    ]);
    expect(await all(store.list(`${k}nothing/`))).toEqual([]);
    expect(await all(store.list(`${k}sessions/s1/0002.json/`))).toEqual([]);
  });

  it('keeps keys with spaces and punctuation apart and intact', async () => {
    const store = await client();
    const k = ns();
    const odd = [`${k}dir with space/a+b=c&d.json`, `${k}dir with space/a b`, `${k}percent%2Fslash`, `${k}.hidden`, `${k}x...y`];
    for (const key of odd) await store.put(key, key);
    for (const key of odd) expect(str(await store.get(key))).toBe(key);
    expect((await all(store.list(k))).map((e) => e.key)).toEqual([...odd].sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b))));
  });

  it('refuses keys that could escape or be ambiguous', async () => {
    const store = await client();
    for (const key of ['', '../x', 'a/../b', 'a/./b', '/abs', 'a//b', 'trailing/', 'back\\slash', 'nul\u0000']) {
      await expect(store.put(key, 'x'), JSON.stringify(key)).rejects.toMatchObject({ name: 'AirlockError', code: 'InvalidRequest' });
    }
    await expect(store.get('../etc/passwd')).rejects.toBeInstanceOf(AirlockError);
  });

  it('keeps objects across a closed client and a new one, and refuses work after close', async () => {
    const store = await client();
    const k = ns();
    await store.put(`${k}kept`, 'still here');
    await store.close();
    await expect(store.get(`${k}kept`)).rejects.toMatchObject({ code: 'DependencyUnavailable' });
    const next = await client();
    expect(str(await next.get(`${k}kept`))).toBe('still here');
  });

  it('lets concurrent writers of one key leave exactly one whole object', async () => {
    const store = await client();
    const k = ns();
    const bodies = Array.from({ length: 8 }, (_, i) => String(i).repeat(50_000));
    await Promise.all(bodies.map((body) => store.put(`${k}contended`, body)));
    expect(bodies).toContain(str(await store.get(`${k}contended`)));
    expect(await all(store.list(k))).toEqual([{ key: `${k}contended`, size: 50_000 }]);
  });
});

describe('S3 blob store failures', () => {
  beforeAll(useAwsTestEnv);
  afterAll(restoreAwsEnv);

  it('fails with DependencyUnavailable when the endpoint is unreachable', async () => {
    const port = await freePort();
    const error = await createS3BlobStore({ bucket: 'b', endpoint: `http://127.0.0.1:${port}`, forcePathStyle: true }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(AirlockError);
    expect(error).toMatchObject({ code: 'DependencyUnavailable' });
  });

  it('refuses a missing bucket unless asked to create it', async () => {
    const moto = await startMoto();
    try {
      const error = await createS3BlobStore({ bucket: 'absent', endpoint: moto.url, forcePathStyle: true }).catch((e: unknown) => e);
      expect(error).toMatchObject({ name: 'AirlockError', code: 'InvalidConfiguration' });
      const store = await createS3BlobStore({ bucket: 'absent', endpoint: moto.url, forcePathStyle: true, createBucket: true });
      await store.close();
      // a second start finds it
      const again = await createS3BlobStore({ bucket: 'absent', endpoint: moto.url, forcePathStyle: true, createBucket: true });
      await again.close();
    } finally {
      await moto.stop();
    }
  });
});

describe('File blob store layout', () => {
  it('keeps an object and a folder of the same name apart and leaves no temporary files', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'airlock-blob-layout-'));
    try {
      const store = await createFileBlobStore({ dir });
      await store.put('a', 'object a');
      await store.put('a/b', 'object a/b');
      expect(str(await store.get('a'))).toBe('object a');
      expect(str(await store.get('a/b'))).toBe('object a/b');
      expect((await readdir(dir)).sort()).toEqual(['a', 'a.b']);
      expect(await readdir(join(dir, 'a'))).toEqual(['b.b']);
      await store.close();
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
