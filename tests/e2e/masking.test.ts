import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { CreateTableCommand, DynamoDBClient, GetItemCommand, PutItemCommand } from '@aws-sdk/client-dynamodb';
import { CreateFunctionCommand, GetFunctionConfigurationCommand, LambdaClient } from '@aws-sdk/client-lambda';
import { ChecksumAlgorithm, CreateBucketCommand, GetObjectCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { CreateSecretCommand, GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { GetParameterCommand, PutParameterCommand, SSMClient } from '@aws-sdk/client-ssm';
import { AssumeRoleWithWebIdentityCommand, STSClient } from '@aws-sdk/client-sts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createFileBlobStore } from '@airlock/blob';
import { startEmbeddedAirlock, type AirlockUnderTest } from '../support/airlock.js';
import { createAwsWorld, type AwsWorld } from '../support/aws-world.js';
import { startIdp } from '../support/idp.js';

/**
 * Issue 8's client acceptance: the AWS SDK v3 and boto3, configured as agents, read answers that hold secrets through
 * Airlock from moto (signature and IAM checks on) — GetSecretValue, GetParameter with decryption,
 * GetFunctionConfiguration, DynamoDB GetItem (botocore checks x-amz-crc32) and S3 GetObject with checksum validation
 * on — and parse them. No planted secret reaches either client, the session record names every mask by rule and
 * location and holds no value, and a masking failure withholds the answer (strict mode, the default).
 */

const run = promisify(execFile);
const repoRoot = fileURLToPath(new URL('../..', import.meta.url));
const region = 'us-east-1';

// Planted secrets: none may reach a client, a recording or a log line.
const dbPassword = 'Zq8#vT2!mW9xLp4R-db';
const parameterSecret = 'pAr4m-S3cure-Value-9x7';
const envSecret = 'env-S3cret-Token-55aa';
const accessKeyId = 'AKIAZ7XQ2LPM4NV8RTY3';
const awsSecretKey = 'q9Vx2LmZ8pT4wK7rY3uN6bC1dF5gH0jS2aE4iO8u';
const githubToken = `ghp_${'Kq8ZrT2mWx9LpV4nB7cD1fG5hJ3kS6aQ0eYu'}`;
const connectionPassword = 'Pw9xQ2zLmn';
const planted = [dbPassword, parameterSecret, envSecret, accessKeyId, awsSecretKey, githubToken, connectionPassword];

const names = {
  secret: 'masking/db',
  parameter: '/masking/db-password',
  function: 'masking-fn',
  table: 'masking-users',
  bucket: 'masking-objects',
};
/** S3 objects, each uploaded with a different checksum algorithm. */
const objects = { 'config-crc32.json': ChecksumAlgorithm.CRC32, 'config-sha256.json': ChecksumAlgorithm.SHA256, 'config-crc32c.json': ChecksumAlgorithm.CRC32C };
const objectBody = JSON.stringify({
  service: 'billing',
  aws: { accessKeyId, SecretAccessKey: awsSecretKey },
  database: { url: `postgres://billing:${connectionPassword}@db.internal.example.com:5432/billing` },
  ci: { pat: githubToken },
  note: 'rotated monthly',
});

interface RecordedCall {
  principal?: { subject?: string };
  call?: { operation?: string; resources?: string[] };
  errorCode?: string;
  masked?: { kind: string; rule: string; location: string; count: number }[];
}

describe('masking: stock clients parse masked answers, and nothing secret gets through', () => {
  let world: AwsWorld;
  let idp: Awaited<ReturnType<typeof startIdp>>;
  let airlock: AirlockUnderTest;
  let scratch: string;
  let credentials: { accessKeyId: string; secretAccessKey: string; sessionToken: string };
  /** Response headers of the last S3 call, as the SDK received them. */
  let s3Headers: Record<string, string> = {};

  beforeAll(async () => {
    scratch = await mkdtemp(join(tmpdir(), 'airlock-masking-'));
    [world, idp] = await Promise.all([
      createAwsWorld({ rolePolicy: { Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: '*', Resource: '*' }] } }),
      startIdp({ audience: 'airlock' }),
    ]);
    // One object is read under a profile nobody defined: a masking failure, injected through policy.
    const brokenPolicy = join(scratch, 'broken-masking.cedar');
    await writeFile(
      brokenPolicy,
      `@id("test-masking-profile-missing")\n@masking("no-such-profile")\npermit (principal, action == Airlock::Action::"s3:GetObject", resource == Airlock::Resource::"arn:aws:s3:::${names.bucket}/broken.json");\n`,
    );
    airlock = await startEmbeddedAirlock({
      config: {
        identity: { issuers: [{ issuer: idp.issuer, audience: 'airlock' }] },
        upstream: { endpoint: world.moto.url },
        policy: { files: [join(repoRoot, 'tests/support/allow-every-call.cedar'), brokenPolicy] },
        edge: { allowedRegions: [region] },
        logging: { level: 'info' },
      },
      env: { ...world.vendingEnv, AIRLOCK_SESSION_KEYS: `masking-1:${randomBytes(32).toString('base64')}` },
    });
    const { Credentials } = await new STSClient({ region, endpoint: airlock.url }).send(
      new AssumeRoleWithWebIdentityCommand({ RoleArn: world.roleArn, RoleSessionName: 'masking-sdk', WebIdentityToken: await idp.issueToken({ clientId: 'masking-sdk' }) }),
    );
    credentials = { accessKeyId: Credentials!.AccessKeyId!, secretAccessKey: Credentials!.SecretAccessKey!, sessionToken: Credentials!.SessionToken! };
  }, 120_000);

  afterAll(async () => {
    await airlock?.stop();
    await Promise.all([world?.stop(), idp?.stop()]);
    if (scratch) await rm(scratch, { recursive: true, force: true });
  });

  const config = () => ({ region, endpoint: airlock.url, credentials, maxAttempts: 1 });

  function s3Client(): S3Client {
    const s3 = new S3Client({ ...config(), forcePathStyle: true, requestChecksumCalculation: 'WHEN_SUPPORTED', responseChecksumValidation: 'WHEN_SUPPORTED' });
    s3.middlewareStack.add(
      (next) => async (args) => {
        const result = await next(args);
        s3Headers = { ...(result.response as { headers?: Record<string, string> }).headers };
        return result;
      },
      { step: 'deserialize', name: 'captureHeaders' },
    );
    return s3;
  }

  it('the AWS SDK v3 parses masked GetSecretValue, GetParameter, GetFunctionConfiguration, GetItem and GetObject answers', async () => {
    const secrets = new SecretsManagerClient(config());
    await secrets.send(new CreateSecretCommand({ Name: names.secret, SecretString: JSON.stringify({ username: 'billing', password: dbPassword }) }));
    const secret = await secrets.send(new GetSecretValueCommand({ SecretId: names.secret }));
    expect(secret.Name).toBe(names.secret);
    expect(secret.SecretString).toBe('[MASKED:secret-string]');

    const ssm = new SSMClient(config());
    await ssm.send(new PutParameterCommand({ Name: names.parameter, Type: 'SecureString', Value: parameterSecret }));
    const parameter = await ssm.send(new GetParameterCommand({ Name: names.parameter, WithDecryption: true }));
    expect(parameter.Parameter).toMatchObject({ Name: names.parameter, Type: 'SecureString', Value: '[MASKED:parameter-value]' });

    const zip = join(scratch, 'function.zip');
    await run('python3', ['-c', `import zipfile; z = zipfile.ZipFile(${JSON.stringify(zip)}, 'w'); z.writestr('index.py', 'def handler(e, c):\\n    return e\\n'); z.close()`]);
    const lambda = new LambdaClient(config());
    await lambda.send(
      new CreateFunctionCommand({
        FunctionName: names.function,
        Runtime: 'python3.12',
        Role: world.roleArn,
        Handler: 'index.handler',
        Code: { ZipFile: await readFile(zip) },
        Environment: { Variables: { DB_PASSWORD: envSecret, LOG_LEVEL: 'info' } },
      }),
    );
    const fn = await lambda.send(new GetFunctionConfigurationCommand({ FunctionName: names.function }));
    expect(fn.FunctionName).toBe(names.function);
    expect(fn.Environment?.Variables).toEqual({ DB_PASSWORD: '[MASKED:env-value]', LOG_LEVEL: '[MASKED:env-value]' });

    const dynamodb = new DynamoDBClient(config());
    await dynamodb.send(
      new CreateTableCommand({
        TableName: names.table,
        KeySchema: [{ AttributeName: 'pk', KeyType: 'HASH' }],
        AttributeDefinitions: [{ AttributeName: 'pk', AttributeType: 'S' }],
        BillingMode: 'PAY_PER_REQUEST',
      }),
    );
    await dynamodb.send(
      new PutItemCommand({
        TableName: names.table,
        Item: {
          pk: { S: 'user#1' },
          deployKey: { S: accessKeyId },
          ciToken: { S: githubToken },
          dsn: { S: `mysql://app:${connectionPassword}@db.example.com/app` },
          visits: { N: '42' },
        },
      }),
    );
    const item = await dynamodb.send(new GetItemCommand({ TableName: names.table, Key: { pk: { S: 'user#1' } } }));
    expect(item.Item).toEqual({
      pk: { S: 'user#1' },
      deployKey: { S: '[MASKED:aws-access-key-id]' },
      ciToken: { S: '[MASKED:github-token]' },
      dsn: { S: 'mysql://app:[MASKED:connection-password]@db.example.com/app' },
      visits: { N: '42' },
    });

    const s3 = s3Client();
    await s3.send(new CreateBucketCommand({ Bucket: names.bucket }));
    for (const [key, algorithm] of Object.entries(objects)) {
      await s3.send(new PutObjectCommand({ Bucket: names.bucket, Key: key, Body: objectBody, ContentType: 'application/json', ChecksumAlgorithm: algorithm }));
    }
    for (const [key, algorithm] of Object.entries(objects)) {
      // ChecksumMode ENABLED: the SDK validates every x-amz-checksum-* it receives while it reads the body.
      const object = await s3.send(new GetObjectCommand({ Bucket: names.bucket, Key: key, ChecksumMode: 'ENABLED' }));
      const parsed = JSON.parse(await object.Body!.transformToString()) as Record<string, Record<string, string>>;
      expect(parsed.aws).toEqual({ accessKeyId: '[MASKED:aws-access-key-id]', SecretAccessKey: '[MASKED:aws-secret-key]' });
      expect(parsed.database?.url).toBe('postgres://billing:[MASKED:connection-password]@db.internal.example.com:5432/billing');
      expect(parsed.ci?.pat).toBe('[MASKED:github-token]');
      // CRC32 and SHA-256 are recomputed over the masked body (and the SDK validated them); CRC32C is dropped.
      const header = `x-amz-checksum-${algorithm.toLowerCase()}`;
      if (algorithm === ChecksumAlgorithm.CRC32C) expect(s3Headers[header]).toBeUndefined();
      else expect(s3Headers[header]).toMatch(/^[A-Za-z0-9+/]+=*$/);
      expect(Number(s3Headers['content-length'])).toBe(Buffer.byteLength(JSON.stringify(parsed)));
    }
    for (const client of [secrets, ssm, lambda, dynamodb, s3]) client.destroy();
  }, 120_000);

  it('boto3 parses the same answers, validating DynamoDB x-amz-crc32 and S3 checksums', async () => {
    const tokenFile = join(scratch, 'boto3.jwt');
    await writeFile(tokenFile, await idp.issueToken({ clientId: 'masking-boto3' }));
    const { stdout } = await run('python3', [join(repoRoot, 'tests/clients/boto3-masking.py'), names.secret, names.parameter, names.function, names.table, names.bucket, ...Object.keys(objects)], {
      env: {
        PATH: process.env.PATH ?? '',
        HOME: scratch,
        AWS_ENDPOINT_URL: airlock.url,
        AWS_WEB_IDENTITY_TOKEN_FILE: tokenFile,
        AWS_ROLE_ARN: world.roleArn,
        AWS_ROLE_SESSION_NAME: 'masking-boto3',
        AWS_REGION: region,
        AWS_DEFAULT_REGION: region,
        AWS_CONFIG_FILE: join(scratch, 'no-config'),
        AWS_SHARED_CREDENTIALS_FILE: join(scratch, 'no-credentials'),
      },
    });
    for (const secret of planted) expect(stdout).not.toContain(secret);
    const seen = JSON.parse(stdout) as {
      secretString: string;
      parameterValue: string;
      environment: Record<string, string>;
      item: Record<string, Record<string, string>>;
      itemCrc32?: string;
      objects: Record<string, { body: string; checksums: Record<string, string> }>;
    };
    expect(seen.secretString).toBe('[MASKED:secret-string]');
    expect(seen.parameterValue).toBe('[MASKED:parameter-value]');
    expect(seen.environment).toEqual({ DB_PASSWORD: '[MASKED:env-value]', LOG_LEVEL: '[MASKED:env-value]' });
    expect(seen.item.deployKey).toEqual({ S: '[MASKED:aws-access-key-id]' });
    // Present, so botocore compared it with the masked body it received (a mismatch raises ChecksumError).
    expect(seen.itemCrc32).toMatch(/^\d+$/);
    for (const [key, algorithm] of Object.entries(objects)) {
      const { body, checksums } = seen.objects[key]!;
      expect(JSON.parse(body)).toMatchObject({ aws: { SecretAccessKey: '[MASKED:aws-secret-key]' }, ci: { pat: '[MASKED:github-token]' } });
      if (algorithm !== ChecksumAlgorithm.CRC32C) expect(Object.keys(checksums)).toContain(`x-amz-checksum-${algorithm.toLowerCase()}`);
    }
  }, 120_000);

  it('withholds an answer whose masking fails, with a retryable ServiceUnavailable and no unmasked byte', async () => {
    const s3 = s3Client();
    await s3.send(new PutObjectCommand({ Bucket: names.bucket, Key: 'broken.json', Body: objectBody, ContentType: 'application/json' }));
    const refused = await s3.send(new GetObjectCommand({ Bucket: names.bucket, Key: 'broken.json' })).then(
      () => undefined,
      (error: unknown) => error as { name?: string; message?: string; $metadata?: { httpStatusCode?: number }; $retryable?: unknown },
    );
    expect(refused).toMatchObject({ name: 'ServiceUnavailable', $metadata: { httpStatusCode: 503 } });
    expect(refused?.message).toContain('withheld');
    expect(JSON.stringify(refused)).not.toContain(awsSecretKey);
    s3.destroy();
  });

  it('records every mask by rule and location, never a value, in the session record and the logs', async () => {
    let calls: RecordedCall[] = [];
    for (let attempt = 0; attempt < 50; attempt++) {
      calls = await readRecordedCalls();
      if (calls.some((call) => call.errorCode === 'DependencyUnavailable')) break;
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
    const sdkCall = (operation: string) => calls.find((call) => call.principal?.subject === 'masking-sdk' && call.call?.operation === operation);
    expect(sdkCall('GetSecretValue')?.masked).toEqual([{ kind: 'secret-string', rule: 'field:SecretString', location: 'SecretString', count: 1 }]);
    expect(sdkCall('GetParameter')?.masked).toEqual([{ kind: 'parameter-value', rule: 'field:Parameter.Value', location: 'Parameter.Value', count: 1 }]);
    expect(sdkCall('GetFunctionConfiguration')?.masked).toEqual([
      { kind: 'env-value', rule: 'field:**.Environment.Variables{}', location: 'Environment.Variables.DB_PASSWORD', count: 1 },
      { kind: 'env-value', rule: 'field:**.Environment.Variables{}', location: 'Environment.Variables.LOG_LEVEL', count: 1 },
    ]);
    expect(sdkCall('GetItem')?.masked?.map(({ rule, count }) => ({ rule, count }))).toEqual([
      { rule: 'detector:aws-access-key-id', count: 1 },
      { rule: 'detector:connection-password', count: 1 },
      { rule: 'detector:github-token', count: 1 },
    ]);
    const reads = calls.filter((call) => call.call?.operation === 'GetObject' && !call.errorCode);
    expect(reads.length).toBe(2 * Object.keys(objects).length);
    for (const read of reads) expect(read.masked?.map((value) => value.kind).sort()).toEqual(['aws-access-key-id', 'aws-secret-key', 'connection-password', 'github-token']);
    const withheld = calls.find((call) => call.errorCode === 'DependencyUnavailable');
    expect(withheld?.call?.operation).toBe('GetObject');

    const everything = `${await readRecordings()}\n${airlock.output()}`;
    for (const secret of planted) expect(everything).not.toContain(secret);
    expect(airlock.output()).toContain('Airlock could not mask the answer');
  });

  async function readRecordings(): Promise<string> {
    const recordings = await createFileBlobStore({ dir: join(airlock.dataDir, 'recordings') });
    const texts: string[] = [];
    for await (const { key } of recordings.list('sessions/')) texts.push(Buffer.from((await recordings.get(key)) ?? []).toString('utf8'));
    await recordings.close();
    return texts.join('\n');
  }

  async function readRecordedCalls(): Promise<RecordedCall[]> {
    return (await readRecordings())
      .split('\n')
      .filter(Boolean)
      .map((line) => (JSON.parse(line) as { call?: RecordedCall }).call)
      .filter((call): call is RecordedCall => call !== undefined);
  }
});
