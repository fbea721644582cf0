import { execFile } from 'node:child_process';
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { CreateBucketCommand, GetObjectCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { assumeThroughAirlock, s3ThroughAirlock, type SessionCredentials } from '../support/agent-credentials.js';
import { agentEnvironment } from '../support/agent-env.js';
import { startEmbeddedAirlock, type AirlockUnderTest } from '../support/airlock.js';
import { createAwsWorld, type AwsWorld } from '../support/aws-world.js';
import { startIdp } from '../support/idp.js';

/**
 * Ranged reads through masking (README, Masking): the AWS SDK v3 and the AWS CLI read S3 objects that hold secrets in
 * byte ranges, from moto with signature checks on. A range whose edges cut through a secret gives away no byte of it,
 * every other byte is the object's own, Content-Range and Content-Length are true, and the AWS CLI's multipart
 * download (ranged GETs written at their offsets) yields a file of the object's exact size.
 */

const run = promisify(execFile);
const repoRoot = fileURLToPath(new URL('../..', import.meta.url));
const bucket = 'ranged-reads';
/** The AWS CLI downloads objects over 1 MB in 256 KB ranged parts (config written below). */
const partSize = 256 * 1024;
const objectSize = 3 * 1024 * 1024 + 12_345;

const privateKey = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey.export({ type: 'pkcs8', format: 'pem' }).toString().trimEnd();
/** Planted values: `secret` is the part masking replaces, `before`/`after` the text around it that it keeps. */
const planted = [
  { kind: 'aws-access-key-id', before: 'deploy key ', secret: 'AKIAZ7XQ2LPM4NV8RTY3', after: ' rotated\n' },
  { kind: 'aws-secret-key', before: '{"SecretAccessKey": "', secret: 'q9Vx2LmZ8pT4wK7rY3uN6bC1dF5gH0jS2aE4iO8u', after: '"}\n' },
  { kind: 'github-token', before: 'ci token ', secret: `ghp_${'Kq8ZrT2mWx9LpV4nB7cD1fG5hJ3kS6aQ0eYu'}`, after: ' end\n' },
  { kind: 'connection-password', before: 'dsn=postgres://billing:', secret: 'Pw9xQ2zLmnT4', after: '@db.internal.example.com/billing\n' },
  { kind: 'private-key', before: 'key:\n', secret: privateKey, after: '\n' },
];

interface Secret {
  kind: string;
  start: number;
  end: number;
  value: string;
}

/** A text object of `objectSize` bytes: log lines, with every planted secret once across a CLI part boundary and once elsewhere. */
function textObject(): { body: Buffer; secrets: Secret[] } {
  const line = (n: number) => `${String(n).padStart(7, '0')} GET /objects/${n % 97} 200 latency=${(n * 37) % 1000}ms region=us-east-1\n`;
  const secrets: Secret[] = [];
  let text = '';
  let n = 0;
  const at = (offset: number, value: (typeof planted)[number]) => {
    // Filler up to where the secret should straddle `offset`.
    const start = offset - value.before.length - Math.floor(value.secret.length / 2);
    while (text.length < start) text += line(n++);
    text = text.slice(0, start);
    text += value.before;
    secrets.push({ kind: value.kind, start: text.length, end: text.length + value.secret.length, value: value.secret });
    text += `${value.secret}${value.after}`;
  };
  planted.forEach((value, i) => {
    at((3 + 2 * i) * partSize, value);
    at((4 + 2 * i) * partSize - 40_000, value);
  });
  while (text.length < objectSize) text += line(n++);
  return { body: Buffer.from(text.slice(0, objectSize), 'latin1'), secrets };
}

/** The object as a ranged read must show it: each secret replaced by its marker, cut or padded to its length. */
function maskedInPlace(body: Buffer, secrets: Secret[]): Buffer {
  const masked = Buffer.from(body);
  for (const { kind, start, end } of secrets) masked.write(`[MASKED:${kind}]`.padEnd(end - start, '*').slice(0, end - start), start, 'latin1');
  return masked;
}

describe('ranged reads through masking', () => {
  let world: AwsWorld;
  let idp: Awaited<ReturnType<typeof startIdp>>;
  let airlock: AirlockUnderTest;
  let scratch: string;
  let credentials: SessionCredentials;
  let s3: S3Client;
  const { body, secrets } = textObject();
  const expected = maskedInPlace(body, secrets);
  const binary = Buffer.concat([randomBytes(200_000), Buffer.from(`AKIAZ7XQ2LPM4NV8RTY3 ${privateKey}`), randomBytes(200_000)]);

  beforeAll(async () => {
    scratch = await mkdtemp(join(tmpdir(), 'airlock-ranges-'));
    [world, idp] = await Promise.all([createAwsWorld(), startIdp({ audience: 'airlock' })]);
    airlock = await startEmbeddedAirlock({
      config: {
        identity: { issuers: [{ issuer: idp.issuer, audience: 'airlock' }] },
        upstream: { endpoint: world.moto.url },
        policy: { files: [join(repoRoot, 'tests/support/allow-every-call.cedar')] },
        edge: { allowedRegions: ['us-east-1'] },
        // Ranged answers up to 64 KB are held whole, longer ones stream: both ways are read below.
        masking: { holdBytes: 64 * 1024 },
        logging: { level: 'info' },
      },
      env: { ...world.vendingEnv, AIRLOCK_SESSION_KEYS: `ranges-1:${randomBytes(32).toString('base64')}` },
    });
    credentials = await assumeThroughAirlock(airlock.url, world.roleArn, await idp.issueToken({ clientId: 'ranges-sdk' }), 'ranges-sdk');
    s3 = s3ThroughAirlock(airlock.url, credentials);
    // Set up at moto directly: what is read through Airlock is exactly what was stored.
    const direct = new S3Client({ region: 'us-east-1', endpoint: world.moto.url, forcePathStyle: true, credentials: await world.roleCredentialsAtMoto('ranges-setup') });
    await direct.send(new CreateBucketCommand({ Bucket: bucket }));
    await direct.send(new PutObjectCommand({ Bucket: bucket, Key: 'log.txt', Body: body, ContentType: 'text/plain' }));
    await direct.send(new PutObjectCommand({ Bucket: bucket, Key: 'blob.bin', Body: binary, ContentType: 'application/octet-stream' }));
    direct.destroy();
  }, 120_000);

  afterAll(async () => {
    s3?.destroy();
    await airlock?.stop();
    await Promise.all([world?.stop(), idp?.stop()]);
    if (scratch) await rm(scratch, { recursive: true, force: true });
  });

  async function read(key: string, range?: string) {
    const answer = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key, ...(range ? { Range: range } : {}) }));
    return { bytes: Buffer.from(await answer.Body!.transformToByteArray()), contentRange: answer.ContentRange, contentLength: answer.ContentLength };
  }

  it('masks the whole object when it is read whole', async () => {
    const whole = (await read('log.txt')).bytes.toString('latin1');
    for (const { value } of secrets) expect(whole).not.toContain(value);
    for (const { kind } of planted) expect(whole).toContain(`[MASKED:${kind}]`);
  });

  it('never gives away a byte of a secret that a range edge cuts through, on either side, and keeps every other byte', async () => {
    for (const { start, end } of secrets) {
      const middle = start + Math.floor((end - start) / 2);
      const ranges: [number, number][] = [
        [start - 30, middle],
        [middle, end + 30],
        [middle, middle],
        [start + 1, end - 2],
        // Long enough to stream rather than be held.
        [middle - 70_000, middle + 1],
      ];
      for (const [first, last] of ranges) {
        const got = await read('log.txt', `bytes=${first}-${last}`);
        expect(got.contentRange, `bytes=${first}-${last}`).toBe(`bytes ${first}-${last}/${objectSize}`);
        expect(got.contentLength).toBe(last - first + 1);
        expect(got.bytes.equals(expected.subarray(first, last + 1)), `bytes=${first}-${last}`).toBe(true);
      }
    }
    // Open-ended and suffix ranges that start inside a secret.
    const last = secrets.at(-1)!;
    const middle = last.start + 100;
    const open = await read('log.txt', `bytes=${middle}-`);
    expect(open.contentRange).toBe(`bytes ${middle}-${objectSize - 1}/${objectSize}`);
    expect(open.bytes.equals(expected.subarray(middle))).toBe(true);
    const suffix = await read('log.txt', `bytes=-${objectSize - middle}`);
    expect(suffix.contentRange).toBe(`bytes ${middle}-${objectSize - 1}/${objectSize}`);
    expect(suffix.bytes.equals(expected.subarray(middle))).toBe(true);
    // The first bytes and a suffix longer than the object.
    expect((await read('log.txt', 'bytes=0-99')).bytes.equals(expected.subarray(0, 100))).toBe(true);
    const longer = await read('log.txt', `bytes=-${objectSize + 5}`);
    expect(longer.contentRange).toBe(`bytes 0-${objectSize - 1}/${objectSize}`);
    expect(longer.bytes.equals(expected)).toBe(true);
  }, 120_000);

  it("answers a range past the end with S3's InvalidRange, and several ranges with the whole object masked", async () => {
    await expect(read('log.txt', `bytes=${objectSize}-`)).rejects.toMatchObject({ name: 'InvalidRange', $metadata: { httpStatusCode: 416 } });
    await expect(read('log.txt', `bytes=${objectSize - 10}-`)).resolves.toMatchObject({ contentLength: 10 });
    const several = await read('log.txt', 'bytes=0-9,100-109');
    expect(several.contentRange).toBeUndefined();
    expect(several.bytes.length).toBeGreaterThan(objectSize - 20_000);
    for (const { value } of secrets) expect(several.bytes.toString('latin1')).not.toContain(value);
  });

  it('masks in place a partNumber read that is the whole object (a single-part upload)', async () => {
    const answer = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'log.txt', PartNumber: 1 }));
    expect(answer.ContentRange).toBe(`bytes 0-${objectSize - 1}/${objectSize}`);
    expect(Buffer.from(await answer.Body!.transformToByteArray()).equals(expected)).toBe(true);
  });

  it('reads a binary object in ranges byte for byte', async () => {
    for (const [first, last] of [
      [0, 0],
      [150_000, 210_000],
      [200_010, 200_100],
      [binary.length - 5, binary.length + 100],
    ] as const) {
      const got = await read('blob.bin', `bytes=${first}-${last}`);
      const end = Math.min(last, binary.length - 1);
      expect(got.contentRange).toBe(`bytes ${first}-${end}/${binary.length}`);
      expect(got.bytes.equals(binary.subarray(first, end + 1))).toBe(true);
    }
  });

  it('lets the AWS CLI download a text object in ranged parts: exact size, secrets masked, every other byte the same', async () => {
    const tokenFile = join(scratch, 'cli.jwt');
    await writeFile(tokenFile, await idp.issueToken({ clientId: 'ranges-cli' }));
    const configFile = join(scratch, 'cli-config');
    await writeFile(configFile, `[default]\ns3 =\n  multipart_threshold = 1MB\n  multipart_chunksize = ${partSize / 1024}KB\n`);
    const target = join(scratch, 'log.copy');
    await run('aws', ['s3', 'cp', `s3://${bucket}/log.txt`, target], {
      env: agentEnvironment({ endpoint: airlock.url, tokenFile, roleArn: world.roleArn, sessionName: 'ranges-cli', home: scratch, configFile }),
    });
    const copy = await readFile(target);
    expect(copy.length).toBe(objectSize);
    // Masked in place: the parts were ranged reads (a whole read masks secrets into markers of other lengths).
    expect(copy.equals(expected)).toBe(true);
  }, 120_000);
});
