import { execFile } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { ListBucketsCommand } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createFileBlobStore } from '@airlock/blob';
import { assumeThroughAirlock, s3ThroughAirlock } from '../support/agent-credentials.js';
import { startEmbeddedAirlock, type AirlockUnderTest } from '../support/airlock.js';
import { createAwsWorld, type AwsWorld } from '../support/aws-world.js';
import { startIdp } from '../support/idp.js';

const execute = promisify(execFile);
const repoRoot = fileURLToPath(new URL('../..', import.meta.url));
const sessionKeys = `test-1:${randomBytes(32).toString('base64')}`;
const signingKey = `rec-test:${generateKeyPairSync('ed25519').privateKey.export({ format: 'der', type: 'pkcs8' }).toString('base64')}`;

describe('session recordings, embedded mode', () => {
  let world: AwsWorld;
  let idp: Awaited<ReturnType<typeof startIdp>>;
  let airlock: AirlockUnderTest;

  beforeAll(async () => {
    [world, idp] = await Promise.all([createAwsWorld(), startIdp({ audience: 'airlock', groups: ['engineers'] })]);
    airlock = await startEmbeddedAirlock({
      config: {
        identity: { issuers: [{ issuer: idp.issuer, audience: 'airlock' }] },
        upstream: { endpoint: world.moto.url },
        policy: { files: [join(repoRoot, 'policies/default.cedar')] },
        edge: { allowedRegions: ['us-east-1'] },
        recorder: { batchSize: 10 },
        logging: { level: 'info' },
      },
      env: { ...world.vendingEnv, AIRLOCK_SESSION_KEYS: sessionKeys, AIRLOCK_RECORDER_SIGNING_KEY: signingKey },
    });
  });

  afterAll(async () => {
    await airlock?.stop();
    await Promise.all([world?.stop(), idp?.stop()]);
  });

  /** `airlock <args>` against the test's configuration; resolves with the exit code and output, never throws. */
  async function cli(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
    try {
      const { stdout, stderr } = await execute(process.execPath, [join(repoRoot, 'cli/dist/main.js'), ...args, '--config', join(airlock.dataDir, 'airlock.yaml')], {
        env: { PATH: process.env.PATH ?? '', HOME: airlock.dataDir, AIRLOCK_RECORDER_SIGNING_KEY: signingKey },
      });
      return { code: 0, stdout, stderr };
    } catch (error) {
      const failed = error as { code?: number; stdout?: string; stderr?: string };
      return { code: typeof failed.code === 'number' ? failed.code : -1, stdout: failed.stdout ?? '', stderr: failed.stderr ?? '' };
    }
  }

  it('records calls in a signed hash chain that verifies, and reports one changed byte with exit code 1', async () => {
    const s3 = s3ThroughAirlock(airlock.url, await assumeThroughAirlock(airlock.url, world.roleArn, await idp.issueToken(), 'recording'));
    for (let i = 0; i < 3; i++) await s3.send(new ListBucketsCommand({}));

    const blob = await createFileBlobStore({ dir: join(airlock.dataDir, 'recordings') });
    try {
      // Wait until the recorder has filed the three calls (and their digests).
      let objects: string[] = [];
      for (let attempt = 0; attempt < 100; attempt++) {
        objects = [];
        let calls = 0;
        for await (const { key } of blob.list('sessions/')) {
          if (!key.endsWith('.ndjson')) continue;
          objects.push(key);
          calls += (new TextDecoder().decode((await blob.get(key))!).match(/"call":/g) ?? []).length;
        }
        if (calls >= 3) break;
        await new Promise((resolve) => setTimeout(resolve, 200));
      }
      const sessionId = objects[0]!.split('/')[1]!;
      expect(new Set(objects.map((key) => key.split('/')[1])).size).toBe(1);

      // The older name still answers.
      const listed = await cli('recordings', 'list');
      expect(listed.code).toBe(0);
      expect(listed.stdout).toContain(sessionId);
      const replay = await cli('sessions', 'replay', sessionId);
      expect(replay.stdout.match(/call +s3:ListAllMyBuckets/g)?.length).toBe(3);

      // Listing reads the hourly index: filters by person, role, operation, decision and time.
      const sessionsListed = async (...filters: string[]) => {
        const result = await cli('sessions', 'list', '--json', ...filters);
        expect(result.stderr).toBe('');
        return (JSON.parse(result.stdout) as { sessions: { sessionId: string; calls: number; operations: string[]; decisions: string[]; subject: string }[] }).sessions;
      };
      expect(await sessionsListed('--since', '1h')).toEqual([
        expect.objectContaining({ sessionId, calls: 3, operations: ['s3:ListAllMyBuckets'], decisions: ['allow'], subject: expect.any(String) }),
      ]);
      const [{ subject } = { subject: '' }] = await sessionsListed();
      expect((await sessionsListed('--subject', subject, '--role', 'agent', '--operation', 's3:*', '--decision', 'allow')).map((s) => s.sessionId)).toEqual([sessionId]);
      expect(await sessionsListed('--operation', 's3:PutObject')).toEqual([]);
      expect(await sessionsListed('--decision', 'deny')).toEqual([]);
      expect(await sessionsListed('--since', '2020-01-01', '--until', '2020-01-02')).toEqual([]);
      expect((await cli('sessions', 'list', '--since', 'yesterday')).code).toBe(2);

      // The audit export: CSV with its header and one row per event, JSON lines, to a file with progress on stderr.
      const csvFile = join(airlock.dataDir, 'audit.csv');
      const exported = await cli('audit', 'export', '--since', '1h', '--format', 'csv', '--output', csvFile);
      expect(exported.code).toBe(0);
      expect(exported.stderr).toMatch(/exported 4 events from /);
      const csv = (await readFile(csvFile, 'utf8')).trimEnd().split('\r\n');
      expect(csv[0]).toMatch(/^time,event_id,session_id,edge_id,type,subject,/);
      expect(csv.slice(1).filter((row) => row.includes(',call,') && row.includes('s3:ListAllMyBuckets'))).toHaveLength(3);
      const jsonl = await cli('audit', 'export', '--since', '1h', '--format', 'jsonl');
      expect(jsonl.stdout.trim().split('\n').map((line) => (JSON.parse(line) as { sessionId: string }).sessionId)).toEqual(Array(4).fill(sessionId));
      expect((await cli('audit', 'export', '--format', 'csv')).code).toBe(2);

      const verified = await cli('sessions', 'verify', sessionId, '--json');
      expect(verified.code).toBe(0);
      expect(JSON.parse(verified.stdout)).toMatchObject({ ok: true, signed: true, events: 4, problems: [] });

      // One byte flipped in a stored object: verify names the object and fails.
      let victim = '';
      for (const key of objects.sort()) if (!victim && Buffer.from((await blob.get(key))!).includes('ListAllMyBuckets')) victim = key;
      const body = Buffer.from((await blob.get(victim))!);
      const at = body.indexOf('ListAllMyBuckets');
      expect(at).toBeGreaterThan(0);
      body[at] = 'l'.charCodeAt(0);
      await blob.put(victim, body);
      const tampered = await cli('sessions', 'verify', sessionId);
      expect(tampered.code).toBe(1);
      expect(tampered.stdout).toMatch(/^FAILED/);
      expect(tampered.stdout).toContain(`tampered\t${victim}`);
    } finally {
      await blob.close();
    }
  });
});
