import { randomBytes } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { CreateBucketCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { AssumeRoleWithWebIdentityCommand, STSClient } from '@aws-sdk/client-sts';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startEmbeddedAirlock, type AirlockUnderTest } from '../support/airlock.js';
import { createAwsWorld, type AwsWorld } from '../support/aws-world.js';
import { startIdp } from '../support/idp.js';

const repoRoot = fileURLToPath(new URL('../..', import.meta.url));
const serverPath = join(repoRoot, 'examples/mcp-aws/server.mjs');
const sessionKeys = `test-1:${randomBytes(32).toString('base64')}`;
const bucket = 'mcp-example';
const deniedKey = 'private/plan.txt';
const deniedReason = 'Plans stay with people: agents may not read private/plan.txt.';

type Idp = Awaited<ReturnType<typeof startIdp>>;
interface ToolResult {
  isError?: boolean;
  content: { type: string; text?: string }[];
  structuredContent?: Record<string, unknown>;
}

describe('an MCP server using the stock AWS SDK, configured through Airlock by environment alone', () => {
  let world: AwsWorld;
  let idp: Idp;
  let airlock: AirlockUnderTest;
  let scratch: string;
  let tokenFile: string;
  let client: Client;
  let serverStderr = '';

  const call = async (name: string, args: Record<string, unknown> = {}): Promise<ToolResult> =>
    (await client.callTool({ name, arguments: args })) as ToolResult;
  const text = (result: ToolResult) => result.content.map((part) => part.text ?? '').join('\n');

  beforeAll(async () => {
    scratch = await mkdtemp(join(tmpdir(), 'airlock-mcp-'));
    [world, idp] = await Promise.all([createAwsWorld(), startIdp({ audience: 'airlock' })]);

    // One object the policy keeps from agents, with a reason they can read.
    const extraPolicy = join(scratch, 'mcp-test.cedar');
    await writeFile(
      extraPolicy,
      [
        '@id("mcp-test-forbid-plan")',
        `@reason("${deniedReason}")`,
        'forbid (',
        '  principal,',
        '  action == Airlock::Action::"s3:GetObject",',
        `  resource == Airlock::Resource::"arn:aws:s3:::${bucket}/${deniedKey}"`,
        ');',
        '',
      ].join('\n'),
    );
    airlock = await startEmbeddedAirlock({
      config: {
        identity: { issuers: [{ issuer: idp.issuer, audience: 'airlock' }] },
        upstream: { endpoint: world.moto.url },
        policy: { files: [join(repoRoot, 'policies/default.cedar'), extraPolicy] },
        edge: { allowedRegions: ['us-east-1'] },
        logging: { level: 'info' },
      },
      env: { ...world.vendingEnv, AIRLOCK_SESSION_KEYS: sessionKeys },
    });

    // The platform's part: a token file for the agent (here written once; a real platform keeps refreshing it).
    tokenFile = join(scratch, 'token.jwt');
    await writeFile(tokenFile, await idp.issueToken());

    // Seed S3 through Airlock with the SDK and a web identity, as any agent would.
    const sts = new STSClient({ region: 'us-east-1', endpoint: airlock.url });
    const { Credentials } = await sts.send(
      new AssumeRoleWithWebIdentityCommand({ RoleArn: world.roleArn, RoleSessionName: 'mcp-seed', WebIdentityToken: await idp.issueToken() }),
    );
    sts.destroy();
    const s3 = new S3Client({
      region: 'us-east-1',
      endpoint: airlock.url,
      forcePathStyle: true,
      credentials: { accessKeyId: Credentials!.AccessKeyId!, secretAccessKey: Credentials!.SecretAccessKey!, sessionToken: Credentials!.SessionToken! },
    });
    await s3.send(new CreateBucketCommand({ Bucket: bucket }));
    await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'notes/hello.txt', Body: 'hello from S3, through Airlock, to an MCP client', ContentType: 'text/plain' }));
    await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'notes/long.txt', Body: 'ü'.repeat(1000), ContentType: 'text/plain; charset=utf-8' }));
    await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'blobs/raw.bin', Body: Buffer.from([0, 1, 2, 255, 254]), ContentType: 'application/octet-stream' }));
    await s3.send(new PutObjectCommand({ Bucket: bucket, Key: deniedKey, Body: 'not for agents', ContentType: 'text/plain' }));
    s3.destroy();

    // The MCP client spawns the example server with the Airlock environment and nothing else: no AWS key, no profile
    // (HOME is an empty folder, so there is no ~/.aws either).
    const transport = new StdioClientTransport({
      command: process.execPath,
      args: [serverPath],
      env: {
        PATH: process.env.PATH ?? '',
        HOME: scratch,
        AWS_ENDPOINT_URL: airlock.url,
        AWS_WEB_IDENTITY_TOKEN_FILE: tokenFile,
        AWS_ROLE_ARN: world.roleArn,
        AWS_REGION: 'us-east-1',
      },
      stderr: 'pipe',
    });
    transport.stderr?.on('data', (chunk: Buffer) => {
      serverStderr += chunk.toString();
    });
    client = new Client({ name: 'airlock-e2e', version: '0.0.0' });
    await client.connect(transport);
  });

  afterAll(async () => {
    await client?.close();
    await airlock?.stop();
    await Promise.all([world?.stop(), idp?.stop()]);
    if (scratch) await rm(scratch, { recursive: true, force: true });
  });

  it('offers its tools', async () => {
    const { tools } = await client.listTools();
    expect(tools.map((tool) => tool.name).sort()).toEqual(['list_buckets', 'list_objects', 'read_object', 'whoami']);
  });

  it('whoami shows the role Airlock vended', async () => {
    const result = await call('whoami');
    expect(result.isError, text(result)).toBeFalsy();
    expect(result.structuredContent).toMatchObject({
      account: '123456789012',
      arn: expect.stringMatching(/^arn:aws:sts::123456789012:assumed-role\/agent\//),
    });
    expect(text(result)).toContain('assumed-role/agent/');
  });

  it('list_buckets and list_objects show what was created through Airlock', async () => {
    const buckets = await call('list_buckets');
    expect(buckets.isError, text(buckets)).toBeFalsy();
    expect((buckets.structuredContent?.buckets as { name: string }[]).map((entry) => entry.name)).toContain(bucket);

    // No '/' in the prefix: moto's signature check rejects a query value holding '/' even when the SDK signs it
    // directly (compare getmoto/moto#5948), so a prefix like 'notes/' or delimiter '/' cannot be exercised here.
    const notes = await call('list_objects', { bucket, prefix: 'notes' });
    expect(notes.isError, text(notes)).toBeFalsy();
    expect(notes.structuredContent).toMatchObject({ bucket, prefix: 'notes', isTruncated: false });
    expect((notes.structuredContent?.objects as { key: string }[]).map((entry) => entry.key)).toEqual(['notes/hello.txt', 'notes/long.txt']);

    const page = await call('list_objects', { bucket, maxKeys: 2 });
    expect(page.structuredContent).toMatchObject({ isTruncated: true, nextContinuationToken: expect.any(String) });
    const rest = await call('list_objects', { bucket, maxKeys: 1000, continuationToken: page.structuredContent?.nextContinuationToken });
    expect(rest.isError, text(rest)).toBeFalsy();
    const keys = [...(page.structuredContent?.objects as { key: string }[]), ...(rest.structuredContent?.objects as { key: string }[])].map((entry) => entry.key);
    expect(keys).toEqual(['blobs/raw.bin', 'notes/hello.txt', 'notes/long.txt', deniedKey]);
  });

  it('read_object returns the content, capped in size and never as binary noise', async () => {
    const hello = await call('read_object', { bucket, key: 'notes/hello.txt' });
    expect(hello.isError, text(hello)).toBeFalsy();
    expect(hello.content[0]?.text).toBe('hello from S3, through Airlock, to an MCP client');
    expect(hello.structuredContent).toMatchObject({ truncated: false, binary: false, size: 48, contentType: 'text/plain' });

    // 'ü' is two bytes: 25 bytes hold 12 whole characters and half of one, which is dropped.
    const long = await call('read_object', { bucket, key: 'notes/long.txt', maxBytes: 25 });
    expect(long.isError, text(long)).toBeFalsy();
    expect(long.content[0]?.text).toBe('ü'.repeat(12));
    expect(long.structuredContent).toMatchObject({ truncated: true, bytesRead: 25 });
    expect(text(long)).toContain('[truncated: showed the first 25 of');

    const raw = await call('read_object', { bucket, key: 'blobs/raw.bin' });
    expect(raw.isError, text(raw)).toBeFalsy();
    expect(raw.structuredContent).toMatchObject({ binary: true, size: 5 });
    expect(text(raw)).toContain('is not UTF-8 text');
  });

  it('a call Airlock policy forbids comes back as a tool error with AccessDenied and the reason, and the server carries on', async () => {
    const denied = await call('read_object', { bucket, key: deniedKey });
    expect(denied.isError).toBe(true);
    expect(text(denied)).toMatch(/^AccessDenied: /);
    expect(text(denied)).toContain(deniedReason);
    expect(text(denied)).toContain('HTTP 403');
    expect(text(denied)).not.toContain('not for agents');

    // An error answered by AWS itself (moto, through Airlock) comes back the same way.
    const missing = await call('read_object', { bucket, key: 'notes/absent.txt' });
    expect(missing.isError).toBe(true);
    expect(text(missing)).toMatch(/^NoSuchKey: /);
    const noBucket = await call('list_objects', { bucket: 'no-such-bucket-here' });
    expect(noBucket.isError).toBe(true);
    expect(text(noBucket)).toMatch(/^NoSuchBucket: /);

    // Still alive and still serving.
    const again = await call('whoami');
    expect(again.isError, text(again)).toBeFalsy();
    expect(serverStderr).toContain('mcp-aws: ready');
  });

  it("the agent's token never reaches Airlock's logs", async () => {
    expect(airlock.output()).not.toContain(await readFile(tokenFile, 'utf8'));
  });
});
