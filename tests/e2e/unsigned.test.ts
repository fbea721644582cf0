import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { DynamoDBClient, ListTablesCommand } from '@aws-sdk/client-dynamodb';
import { DescribeInstancesCommand, EC2Client } from '@aws-sdk/client-ec2';
import { GetObjectCommand, ListObjectsV2Command, S3Client } from '@aws-sdk/client-s3';
import { ListQueuesCommand, SQSClient } from '@aws-sdk/client-sqs';
import { GetCallerIdentityCommand, STSClient } from '@aws-sdk/client-sts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startEmbeddedAirlock, type AirlockUnderTest } from '../support/airlock.js';

const run = promisify(execFile);

/** What an SDK makes of an error answer: the code it names the error by, its message and the HTTP status. */
interface SdkError {
  name: string;
  message: string;
  $metadata?: { httpStatusCode?: number };
}

/**
 * Requests without a signature that are not the STS facade's AssumeRoleWithWebIdentity: an anonymous S3 client (the
 * one SDK that sends unsigned requests by design), or any client whose signing was switched off. Each is refused in
 * the error format of the service it looks like it is for, so the stock SDK names the error and shows its message,
 * instead of failing to parse STS's XML.
 */
describe('unsigned requests: refused in the error format of the SDK that sent them', () => {
  let airlock: AirlockUnderTest;
  // The anonymous signer: the request goes out with no Authorization header and no signed query.
  const anonymous = { region: 'us-east-1', maxAttempts: 1, signer: { sign: async <T>(request: T) => request }, credentials: { accessKeyId: '', secretAccessKey: '' } };

  beforeAll(async () => {
    airlock = await startEmbeddedAirlock({
      config: { policy: { files: [fileURLToPath(new URL('../../policies/default.cedar', import.meta.url))] }, logging: { level: 'warn' } },
      env: { AIRLOCK_SESSION_KEYS: `unsigned-1:${randomBytes(32).toString('base64')}` },
    });
  });

  afterAll(async () => {
    await airlock?.stop();
  });

  /** Sends each command with the client, expecting the SDK to name the refusal and show Airlock's message. */
  const expectRefused = async (client: { send(command: never): Promise<unknown>; destroy(): void }, ...commands: object[]) => {
    for (const command of commands) {
      const error = (await client.send(command as never).then(
        () => undefined,
        (thrown: unknown) => thrown,
      )) as SdkError | undefined;
      expect(error).toMatchObject({ name: 'MissingAuthenticationToken', $metadata: { httpStatusCode: 403 } });
      expect(error!.message).toContain('The request is not signed');
    }
    client.destroy();
  };

  it('answers an anonymous S3 client in S3 REST-XML', async () => {
    await expectRefused(
      new S3Client({ ...anonymous, endpoint: airlock.url, forcePathStyle: true }),
      new ListObjectsV2Command({ Bucket: 'public-reports' }),
      new GetObjectCommand({ Bucket: 'public-reports', Key: 'q3.csv' }),
    );
    const raw = await fetch(`${airlock.url}/public-reports/q3.csv`);
    expect(raw.headers.get('content-type')).toBe('application/xml');
    expect(await raw.text()).toMatch(/^<\?xml version="1.0" encoding="UTF-8"\?>\n<Error><Code>MissingAuthenticationToken<\/Code><Message>The request is not signed/);
  });

  it('answers JSON-protocol clients (X-Amz-Target) in JSON', async () => {
    await expectRefused(new DynamoDBClient({ ...anonymous, endpoint: airlock.url }), new ListTablesCommand({}));
    await expectRefused(new SQSClient({ ...anonymous, endpoint: airlock.url }), new ListQueuesCommand({}));
  });

  it('answers query-protocol clients (Action=) in their query XML, EC2 in its own', async () => {
    await expectRefused(new STSClient({ ...anonymous, endpoint: airlock.url }), new GetCallerIdentityCommand({}));
    await expectRefused(new EC2Client({ ...anonymous, endpoint: airlock.url }), new DescribeInstancesCommand({}));
    // Each in its service's own shape and namespace, told by the API version the request names.
    const ec2Raw = await (await fetch(`${airlock.url}/?Action=DescribeInstances&Version=2016-11-15`)).text();
    expect(ec2Raw).toContain('<Response><Errors><Error><Code>MissingAuthenticationToken</Code>');
    const snsRaw = await fetch(`${airlock.url}/`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: 'Action=ListTopics&Version=2010-03-31' });
    expect(await snsRaw.text()).toContain('<ErrorResponse xmlns="http://sns.amazonaws.com/doc/2010-03-31/">');
  });

  it('gives the AWS CLI with --no-sign-request an error it prints by code and message', async () => {
    const aws = (...args: string[]) =>
      run('aws', [...args, '--no-sign-request', '--endpoint-url', airlock.url, '--region', 'us-east-1'], { env: { PATH: process.env.PATH ?? '', HOME: airlock.dataDir } }).then(
        () => '',
        (error: { stderr: string }) => error.stderr,
      );
    expect(await aws('s3api', 'list-objects-v2', '--bucket', 'public-reports')).toContain(
      'An error occurred (MissingAuthenticationToken) when calling the ListObjectsV2 operation: The request is not signed',
    );
    expect(await aws('dynamodb', 'list-tables')).toContain('An error occurred (MissingAuthenticationToken) when calling the ListTables operation: The request is not signed');
  });
});
