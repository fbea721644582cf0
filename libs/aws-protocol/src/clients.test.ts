import { spawn, spawnSync } from 'node:child_process';
import { once } from 'node:events';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { GetRoleCommand, IAMClient } from '@aws-sdk/client-iam';
import { DeleteObjectsCommand, GetObjectCommand, ListObjectsV2Command, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { GetCallerIdentityCommand, STSClient } from '@aws-sdk/client-sts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { classify, formBodyParameters, type RequestFacts } from './classify.js';
import type { CallDescription } from './call.js';
import { splitVirtualHost } from './s3.js';
import { serviceFor } from './services.js';

// Requests as real AWS clients send them (botocore, which boto3 and the AWS CLI share, and the AWS SDK for JavaScript
// v3), captured by a plain node:http server and classified the way the edge does. One representative call per service
// of the compatibility matrix in issue 4, checked for operation, IAM action and resources.

const ACCOUNT = '111122223333';
const REGION = 'eu-west-1';
const CREDENTIALS = { accessKeyId: 'ALSAMPLE2345ABCDEFGH', secretAccessKey: 'airlock-test-secret-0123456789abcdefghij', sessionToken: 'airlock.session-token' };

interface Captured {
  method: string;
  rawPath: string;
  rawQuery: string;
  headers: IncomingHttpHeaders;
  body: Buffer;
}

let server: Server;
let port: number;
let captured: Captured[] = [];

beforeAll(async () => {
  server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      const url = request.url ?? '/';
      const mark = url.indexOf('?');
      captured.push({
        method: request.method ?? 'GET',
        rawPath: mark === -1 ? url : url.slice(0, mark),
        rawQuery: mark === -1 ? '' : url.slice(mark + 1),
        headers: request.headers,
        body: Buffer.concat(chunks),
      });
      // The clients' parsing of the answer is not under test; a client error after the request was sent is fine.
      response.writeHead(400, { 'content-type': 'text/plain' });
      response.end('captured');
    });
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  port = (server.address() as AddressInfo).port;
});

afterAll(async () => {
  server.closeAllConnections();
  server.close();
  await once(server, 'close');
});

/** Classifies a captured request as the edge does: signing name from the credential scope, service by request head. */
function classifyCaptured(request: Captured): CallDescription & { serviceId: string } {
  const scope = /Credential=[^/]+\/\d{8}\/([^/]+)\/([^/]+)\/aws4_request/.exec(String(request.headers.authorization));
  if (!scope) throw new Error('the request is not SigV4-signed');
  const signingName = scope[2] as string;
  const host = splitVirtualHost(String(request.headers.host), [`localhost:${port}`, `127.0.0.1:${port}`]);
  const head = { method: request.method, rawPath: request.rawPath, rawQuery: request.rawQuery, headers: request.headers, hostPrefix: host?.prefix };
  const service = serviceFor(signingName, head);
  if (!service) throw new Error(`no service signs as ${signingName}`);
  const form = (request.headers['content-type'] ?? '').startsWith('application/x-www-form-urlencoded');
  const facts: RequestFacts = {
    method: request.method,
    path: decodeURIComponent(request.rawPath),
    rawPath: request.rawPath,
    query: Object.fromEntries(new URLSearchParams(request.rawQuery)),
    headers: request.headers,
    bodyParameters: form ? formBodyParameters(request.body) : undefined,
    body: request.body,
    partition: 'aws',
    region: scope[1],
    account: ACCOUNT,
    hostPrefix: host?.prefix,
  };
  return { ...classify(service, facts), serviceId: service.id };
}

const PYTHON = process.env['PYTHON'] ?? 'python3';
const hasBoto3 = spawnSync(PYTHON, ['-c', 'import boto3'], { stdio: 'ignore' }).status === 0;

// Each call is tagged with a header after signing; every request is sent to the capture server whatever host the
// client derived (S3 Control puts the account id in front of the endpoint; virtual-hosted S3 the bucket), with the
// Host header the client signed.
const BOTO_SCRIPT = String.raw`
import sys, boto3, botocore.config
from urllib.parse import urlsplit, urlunsplit
endpoint, port, key, secret, token, region = sys.argv[1:7]
session = boto3.session.Session(aws_access_key_id=key, aws_secret_access_key=secret, aws_session_token=token, region_name=region)
current = ['']
def reroute(request, **kwargs):
    parts = urlsplit(request.url)
    request.headers['Host'] = parts.netloc
    request.headers['x-test-call'] = current[0]
    request.url = urlunsplit((parts.scheme, '127.0.0.1:' + port, parts.path, parts.query, ''))
def client(name, style='path'):
    config = botocore.config.Config(retries={'total_max_attempts': 1}, s3={'addressing_style': style})
    c = session.client(name, endpoint_url=endpoint, config=config)
    c.meta.events.register('before-send', reroute)
    return c
A = '${ACCOUNT}'
calls = [
  ('s3', lambda: client('s3').list_objects_v2(Bucket='logs', Prefix='2024/')),
  ('s3-put', lambda: client('s3').put_object(Bucket='logs', Key='a b/c.txt', Body=b'hi')),
  ('s3-copy', lambda: client('s3').copy_object(Bucket='logs', Key='copy', CopySource={'Bucket': 'src', 'Key': 'k 1'})),
  ('s3-virtual', lambda: client('s3', 'virtual').get_object(Bucket='vbucket', Key='dir/k')),
  ('s3control', lambda: client('s3control').get_access_point(AccountId=A, Name='ap1')),
  ('sts', lambda: client('sts').assume_role(RoleArn='arn:aws:iam::' + A + ':role/admin', RoleSessionName='agent-session')),
  ('iam', lambda: client('iam').attach_role_policy(RoleName='agent', PolicyArn='arn:aws:iam::aws:policy/ReadOnlyAccess')),
  ('ec2', lambda: client('ec2').terminate_instances(InstanceIds=['i-0a', 'i-0b'])),
  ('lambda', lambda: client('lambda').invoke(FunctionName='my-fn', Payload=b'{"FunctionName":"other"}')),
  ('dynamodb', lambda: client('dynamodb').batch_get_item(RequestItems={'orders': {'Keys': [{'id': {'S': '1'}}]}})),
  ('secretsmanager', lambda: client('secretsmanager').get_secret_value(SecretId='prod/db')),
  ('ssm', lambda: client('ssm').get_parameter(Name='/app/db/password', WithDecryption=True)),
  ('sqs', lambda: client('sqs').send_message(QueueUrl='https://sqs.' + region + '.amazonaws.com/' + A + '/jobs', MessageBody='x')),
  ('sns', lambda: client('sns').publish(TopicArn='arn:aws:sns:' + region + ':' + A + ':alerts', Message='x')),
  ('kms', lambda: client('kms').encrypt(KeyId='alias/app', Plaintext=b'x')),
  ('logs', lambda: client('logs').put_log_events(logGroupName='/app/web', logStreamName='i-1', logEvents=[{'timestamp': 1, 'message': 'm'}])),
  ('cloudformation', lambda: client('cloudformation').delete_stack(StackName='prod')),
  ('route53', lambda: client('route53').list_resource_record_sets(HostedZoneId='/hostedzone/Z123')),
  ('ecr', lambda: client('ecr').describe_images(repositoryName='app', registryId='444455556666')),
  ('ecs', lambda: client('ecs').update_service(cluster='prod', service='web', desiredCount=2)),
  ('rds', lambda: client('rds').delete_db_instance(DBInstanceIdentifier='db1', SkipFinalSnapshot=True)),
  ('kinesis', lambda: client('kinesis').put_record(StreamName='events', Data=b'x', PartitionKey='k')),
  ('events', lambda: client('events').put_rule(Name='nightly', EventBusName='ops', ScheduleExpression='rate(1 day)')),
]
for name, call in calls:
    current[0] = name
    try: call()
    except Exception: pass
`;

const arn = (service: string, rest: string, region = REGION, account = ACCOUNT) => `arn:aws:${service}:${region}:${account}:${rest}`;

const matrix: [name: string, service: string, operation: string, action: string, resources: string[]][] = [
  ['s3', 's3', 'ListObjectsV2', 's3:ListBucket', ['arn:aws:s3:::logs']],
  ['s3-put', 's3', 'PutObject', 's3:PutObject', ['arn:aws:s3:::logs/a b/c.txt']],
  ['s3-copy', 's3', 'CopyObject', 's3:PutObject', ['arn:aws:s3:::logs/copy', 'arn:aws:s3:::src/k 1']],
  ['s3-virtual', 's3', 'GetObject', 's3:GetObject', ['arn:aws:s3:::vbucket/dir/k']],
  ['s3control', 's3control', 'GetAccessPoint', 's3:GetAccessPoint', [arn('s3', 'accesspoint/ap1')]],
  ['sts', 'sts', 'AssumeRole', 'sts:AssumeRole', [`arn:aws:iam::${ACCOUNT}:role/admin`]],
  ['iam', 'iam', 'AttachRolePolicy', 'iam:AttachRolePolicy', [`arn:aws:iam::${ACCOUNT}:role/agent`, 'arn:aws:iam::aws:policy/ReadOnlyAccess']],
  ['ec2', 'ec2', 'TerminateInstances', 'ec2:TerminateInstances', [arn('ec2', 'instance/i-0a'), arn('ec2', 'instance/i-0b')]],
  ['lambda', 'lambda', 'Invoke', 'lambda:InvokeFunction', [arn('lambda', 'function:my-fn')]],
  ['dynamodb', 'dynamodb', 'BatchGetItem', 'dynamodb:BatchGetItem', [arn('dynamodb', 'table/orders')]],
  ['secretsmanager', 'secretsmanager', 'GetSecretValue', 'secretsmanager:GetSecretValue', [arn('secretsmanager', 'secret:prod/db')]],
  ['ssm', 'ssm', 'GetParameter', 'ssm:GetParameter', [arn('ssm', 'parameter/app/db/password')]],
  ['sqs', 'sqs', 'SendMessage', 'sqs:SendMessage', [arn('sqs', 'jobs')]],
  ['sns', 'sns', 'Publish', 'sns:Publish', [arn('sns', 'alerts')]],
  ['kms', 'kms', 'Encrypt', 'kms:Encrypt', [arn('kms', 'alias/app')]],
  ['logs', 'logs', 'PutLogEvents', 'logs:PutLogEvents', [arn('logs', 'log-group:/app/web:log-stream:i-1')]],
  ['cloudformation', 'cloudformation', 'DeleteStack', 'cloudformation:DeleteStack', [arn('cloudformation', 'stack/prod/*')]],
  ['route53', 'route53', 'ListResourceRecordSets', 'route53:ListResourceRecordSets', ['arn:aws:route53:::hostedzone/Z123']],
  ['ecr', 'ecr', 'DescribeImages', 'ecr:DescribeImages', [arn('ecr', 'repository/app', REGION, '444455556666')]],
  ['ecs', 'ecs', 'UpdateService', 'ecs:UpdateService', [arn('ecs', 'service/prod/web')]],
  ['rds', 'rds', 'DeleteDBInstance', 'rds:DeleteDBInstance', [arn('rds', 'db:db1')]],
  ['kinesis', 'kinesis', 'PutRecord', 'kinesis:PutRecord', [arn('kinesis', 'stream/events')]],
  ['events', 'events', 'PutRule', 'events:PutRule', [arn('events', 'rule/ops/nightly')]],
];

describe.skipIf(!hasBoto3)('requests sent by botocore (boto3, the AWS CLI) are classified', () => {
  const requests = new Map<string, Captured>();

  beforeAll(async () => {
    captured = [];
    const env: NodeJS.ProcessEnv = { AWS_CONFIG_FILE: '/dev/null', AWS_SHARED_CREDENTIALS_FILE: '/dev/null', AWS_EC2_METADATA_DISABLED: 'true' };
    for (const [name, value] of Object.entries(process.env)) if (!name.startsWith('AWS_')) env[name] = value;
    const args = [`http://localhost:${port}`, String(port), CREDENTIALS.accessKeyId, CREDENTIALS.secretAccessKey, CREDENTIALS.sessionToken, REGION];
    const child = spawn(PYTHON, ['-c', BOTO_SCRIPT, ...args], { env, stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const [code] = (await once(child, 'exit')) as [number | null];
    expect(code, stderr).toBe(0);
    for (const request of captured) {
      const name = String(request.headers['x-test-call']);
      if (!requests.has(name)) requests.set(name, request);
    }
  }, 60_000);

  it.each(matrix)('%s', (name, service, operation, action, resources) => {
    const request = requests.get(name);
    expect(request, `botocore sent no ${name} request`).toBeDefined();
    const call = classifyCaptured(request as Captured);
    expect(call).toMatchObject({ serviceId: service, operation, action, known: true });
    expect([...call.resources].sort()).toEqual([...resources].sort());
  });

  it('covers at least 20 services across all five protocols', () => {
    const services = new Set(matrix.map(([, service]) => service));
    expect(services.size).toBeGreaterThanOrEqual(20);
    const protocols = new Set([...requests.values()].map((request) => serviceFor(/\/([^/]+)\/aws4_request/.exec(String(request.headers.authorization))?.[1] ?? '', { ...request, headers: request.headers })?.protocol));
    expect([...protocols].sort()).toEqual(['ec2', 'json', 'query', 'rest-json', 'rest-xml']);
  });

  it('keeps the payload of a call whose body is one member out of its parameters (Lambda Invoke)', () => {
    expect(classifyCaptured(requests.get('lambda') as Captured).parameters).toEqual({ FunctionName: 'my-fn' });
  });

  it('carries the account of a host-prefixed call (S3 Control) for the upstream host', () => {
    expect(classifyCaptured(requests.get('s3control') as Captured).hostPrefix).toBe(`${ACCOUNT}.`);
  });
});

describe('requests sent by the AWS SDK for JavaScript v3 are classified', () => {
  const endpoint = () => `http://127.0.0.1:${port}`;
  async function capture(send: () => Promise<unknown>): Promise<Captured> {
    const before = captured.length;
    await send().catch(() => undefined);
    expect(captured.length).toBe(before + 1);
    return captured[before] as Captured;
  }
  const s3 = () => new S3Client({ endpoint: endpoint(), region: REGION, credentials: CREDENTIALS, forcePathStyle: true, maxAttempts: 1 });

  it.each([
    ['ListObjectsV2', () => s3().send(new ListObjectsV2Command({ Bucket: 'logs', Prefix: 'a/' })), 's3:ListBucket', ['arn:aws:s3:::logs']],
    ['PutObject', () => s3().send(new PutObjectCommand({ Bucket: 'logs', Key: 'dir/a b+c.txt', Body: 'x' })), 's3:PutObject', ['arn:aws:s3:::logs/dir/a b+c.txt']],
    ['GetObject', () => s3().send(new GetObjectCommand({ Bucket: 'logs', Key: 'k', VersionId: 'v1' })), 's3:GetObjectVersion', ['arn:aws:s3:::logs/k']],
    ['DeleteObjects', () => s3().send(new DeleteObjectsCommand({ Bucket: 'logs', Delete: { Objects: [{ Key: 'a' }] } })), 's3:DeleteObject', ['arn:aws:s3:::logs']],
    ['GetCallerIdentity', () => new STSClient({ endpoint: endpoint(), region: REGION, credentials: CREDENTIALS, maxAttempts: 1 }).send(new GetCallerIdentityCommand({})), 'sts:GetCallerIdentity', []],
    ['GetRole', () => new IAMClient({ endpoint: endpoint(), region: REGION, credentials: CREDENTIALS, maxAttempts: 1 }).send(new GetRoleCommand({ RoleName: 'agent' })), 'iam:GetRole', [`arn:aws:iam::${ACCOUNT}:role/agent`]],
  ] as const)('%s', async (operation, send, action, resources) => {
    const call = classifyCaptured(await capture(send));
    expect(call).toMatchObject({ operation, action, resources, known: true });
  });
});
