import { execFile } from 'node:child_process';
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { CreateBucketCommand, GetObjectCommand, ListObjectsV2Command, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { assumeThroughAirlock, s3ThroughAirlock } from '../support/agent-credentials.js';
import { startDistributedAirlock, type DistributedAirlock } from '../support/airlock.js';
import { createAwsWorld, type AwsWorld } from '../support/aws-world.js';
import { startIdp } from '../support/idp.js';
import { startNats, startRedis, type Peer } from '../support/peers.js';
import { startTcpRelay, type TcpRelay } from '../support/tcp-relay.js';

const execute = promisify(execFile);
const repoRoot = fileURLToPath(new URL('../..', import.meta.url));
const signingKey = `chaos:${generateKeyPairSync('ed25519').privateKey.export({ format: 'der', type: 'pkcs8' }).toString('base64')}`;
const recordingsBucket = 'airlock-recordings';

interface StoredLine {
  /** The object the line was read from. */
  key: string;
  eventId: string;
  sessionId: string;
  requested?: { call?: { resources?: string[] } };
}

/**
 * The recorder's acceptance under failure, in distributed mode: calls run without pause while the recorder process
 * is killed (SIGKILL) and restarted, nats-server is restarted on the same port with its JetStream store, and the
 * recorder's S3 is cut off for a while (a TCP relay in front of moto). Strict recording, so a call that succeeded is
 * one whose request event JetStream acknowledged. Afterwards every such call is in S3 exactly once, in the order the
 * client made them, and verify passes with signed digests.
 */
describe('recording under failure (distributed, strict)', () => {
  let world: AwsWorld;
  let idp: Awaited<ReturnType<typeof startIdp>>;
  let nats: Peer;
  let redis: Peer;
  let natsStore: string;
  let relay: TcpRelay;
  let airlock: DistributedAirlock;

  beforeAll(async () => {
    natsStore = await mkdtemp(join(tmpdir(), 'airlock-chaos-nats-'));
    [world, idp, nats, redis] = await Promise.all([createAwsWorld(), startIdp({ audience: 'airlock', groups: ['engineers'] }), startNats({ storeDir: natsStore }), startRedis()]);
    relay = await startTcpRelay(world.moto.port);
    airlock = await startDistributedAirlock({
      config: {
        identity: { issuers: [{ issuer: idp.issuer, audience: 'airlock' }] },
        upstream: { endpoint: world.moto.url },
        policy: { files: [join(repoRoot, 'policies/default.cedar')] },
        edge: { allowedRegions: ['us-east-1'], recording: 'strict', dependencyTimeoutMs: 2_000 },
        // Small batches and a short ack wait: many objects, and quick redelivery after each failure.
        recorder: { batchSize: 5, ackWaitMs: 2_000 },
        drivers: {
          bus: { kind: 'nats', servers: [nats.url] },
          state: { kind: 'redis', url: redis.url },
          // Only the recorder's S3 goes through the relay; the agent's calls reach moto directly.
          blob: { kind: 's3', bucket: recordingsBucket, endpoint: relay.url, forcePathStyle: true },
        },
        logging: { level: 'info' },
      },
      env: { ...world.vendingEnv, AIRLOCK_SESSION_KEYS: `test-1:${randomBytes(32).toString('base64')}`, AIRLOCK_RECORDER_SIGNING_KEY: signingKey },
    });
  }, 240_000);

  afterAll(async () => {
    await airlock?.stop();
    await relay?.stop();
    await Promise.all([world?.stop(), idp?.stop(), nats?.stop(), redis?.stop()]);
    await rm(natsStore, { recursive: true, force: true });
  });

  async function cli(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
    try {
      const { stdout, stderr } = await execute(process.execPath, [join(repoRoot, 'cli/dist/main.js'), ...args, '--config', join(airlock.dataDir, 'airlock.yaml')], {
        env: { PATH: process.env.PATH ?? '', HOME: airlock.dataDir, AIRLOCK_RECORDER_SIGNING_KEY: signingKey },
        maxBuffer: 16 * 1024 * 1024,
      });
      return { code: 0, stdout, stderr };
    } catch (error) {
      const failed = error as { code?: number; stdout?: string; stderr?: string };
      return { code: typeof failed.code === 'number' ? failed.code : -1, stdout: failed.stdout ?? '', stderr: failed.stderr ?? '' };
    }
  }

  /** The recordings bucket at moto itself, as an auditor with bucket access sees it. */
  const bucket = () => new S3Client({ region: 'us-east-1', endpoint: world.moto.url, forcePathStyle: true, credentials: world.vendingIdentity });

  async function recordingKeys(): Promise<string[]> {
    const s3 = bucket();
    const keys: string[] = [];
    let token: string | undefined;
    do {
      const listed = await s3.send(new ListObjectsV2Command({ Bucket: recordingsBucket, ContinuationToken: token }));
      for (const object of listed.Contents ?? []) if (object.Key?.endsWith('.ndjson')) keys.push(object.Key);
      token = listed.NextContinuationToken;
    } while (token);
    s3.destroy();
    return keys;
  }

  async function readRecording(key: string): Promise<string | undefined> {
    const s3 = bucket();
    try {
      return await (await s3.send(new GetObjectCommand({ Bucket: recordingsBucket, Key: key }))).Body!.transformToString();
    } catch {
      return undefined;
    } finally {
      s3.destroy();
    }
  }

  /** Every recording line in the bucket: list everything, read every object. */
  async function storedLines(): Promise<StoredLine[]> {
    const keys = await recordingKeys();
    const bodies = await Promise.all(keys.map(async (key) => (await readRecording(key)) ?? ''));
    return bodies.flatMap((body, i) => body.split('\n').filter(Boolean).map((line): StoredLine => ({ ...(JSON.parse(line) as Omit<StoredLine, 'key'>), key: keys[i]! })));
  }

  const putKeyOf = (line: StoredLine) => line.requested?.call?.resources?.find((arn) => arn.startsWith('arn:aws:s3:::chaos/'))?.slice('arn:aws:s3:::chaos/'.length);

  it('files every call that succeeded exactly once, in order, through a recorder crash, a nats-server restart and an S3 outage', async () => {
    const s3 = s3ThroughAirlock(airlock.url, await assumeThroughAirlock(airlock.url, world.roleArn, await idp.issueToken(), 'chaos'));
    await s3.send(new CreateBucketCommand({ Bucket: 'chaos' }));

    // One caller, one call at a time, a new key per attempt: the order of successes is the order the recording must keep.
    const succeeded: string[] = [];
    let failed = 0;
    let running = true;
    const caller = (async () => {
      for (let attempt = 0; running; attempt++) {
        const key = `k${String(attempt).padStart(5, '0')}`;
        try {
          await s3.send(new PutObjectCommand({ Bucket: 'chaos', Key: key, Body: key }));
          succeeded.push(key);
        } catch {
          failed++;
          await sleep(100);
        }
      }
    })();
    const progress = async (more: number) => {
      const target = succeeded.length + more;
      for (let waited = 0; succeeded.length < target && waited < 30_000; waited += 100) await sleep(100);
      expect(succeeded.length).toBeGreaterThanOrEqual(target);
    };
    /**
     * Waits until the newest call that succeeded so far is filed: recordings keep call order, so it is once the
     * session's newest object holds it or a later call. Each failure below then meets a recorder at work.
     */
    const caughtUp = async (): Promise<void> => {
      const newest = succeeded.at(-1) ?? '';
      for (const deadline = Date.now() + 90_000; Date.now() < deadline; await sleep(250)) {
        const sessionId = (await recordingKeys())[0]?.split('/')[1];
        const head = sessionId ? await readRecording(`sessions/${sessionId}/head.json`) : undefined;
        const object = head ? await readRecording((JSON.parse(head) as { key: string }).key) : undefined;
        const filed = [...(object ?? '').matchAll(/arn:aws:s3:::chaos\/(k\d{5})"/g)].map((match) => match[1]!);
        if (filed.some((key) => key >= newest)) return;
      }
      throw new Error(`the recorder did not catch up with ${newest}`);
    };

    await progress(5);
    await airlock.restart('recorder', { kill: true });
    await progress(5);
    await caughtUp();

    await nats.stop();
    await sleep(1_000);
    nats = await startNats({ storeDir: natsStore, port: nats.port });
    await progress(5);
    await caughtUp();

    relay.cut();
    await progress(5);
    await sleep(3_000);
    relay.restore();
    await progress(5);

    running = false;
    await caller;
    s3.destroy();

    // Exactly once: no event twice anywhere in the bucket, and every call that succeeded present.
    await caughtUp();
    const lines = await storedLines();
    const seen = new Set<string>();
    expect(lines.filter((line) => seen.has(line.eventId) || !seen.add(line.eventId)).map((line) => `${line.eventId} in ${line.key}`)).toEqual([]);
    const filedKeys = lines.map(putKeyOf).filter((key): key is string => key !== undefined);
    expect(new Set(filedKeys).size).toBe(filedKeys.length);
    expect(succeeded.filter((key) => !filedKeys.includes(key))).toEqual([]);

    // In order: the session as the recorder reads it back (its chain, from the head) has the successes in call order.
    const sessionId = lines.find((line) => putKeyOf(line))!.sessionId;
    const shown = await cli('sessions', 'show', sessionId);
    expect(shown.code).toBe(0);
    const chainOrder = shown.stdout
      .split('\n')
      .filter(Boolean)
      .map((line) => putKeyOf(JSON.parse(line) as StoredLine))
      .filter((key): key is string => key !== undefined && succeeded.includes(key));
    expect(chainOrder).toEqual(succeeded);

    const verified = await cli('sessions', 'verify', sessionId, '--json');
    expect(verified.stderr).toBe('');
    expect(JSON.parse(verified.stdout)).toMatchObject({ ok: true, signed: true, problems: [] });
    expect(verified.code).toBe(0);
    // The failures really happened: the recorder saw S3 fail and the edge refused calls while the bus was down.
    expect(airlock.output()).toContain('storing session events failed; holding them and retrying');
    expect(failed).toBeGreaterThan(0);
  }, 300_000);
});
