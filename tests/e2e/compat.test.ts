import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { lookup as dnsLookup } from 'node:dns';
import { Agent } from 'node:http';
import { type LookupFunction } from 'node:net';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { CloudFormationClient, CreateStackCommand, DescribeStacksCommand } from '@aws-sdk/client-cloudformation';
import { CloudWatchLogsClient, CreateLogGroupCommand, DescribeLogGroupsCommand } from '@aws-sdk/client-cloudwatch-logs';
import { CreateTableCommand, DescribeTableCommand, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { CreateSecurityGroupCommand, DescribeSecurityGroupsCommand, EC2Client } from '@aws-sdk/client-ec2';
import { CreateRepositoryCommand, DescribeRepositoriesCommand, ECRClient } from '@aws-sdk/client-ecr';
import { CreateClusterCommand, DescribeClustersCommand, ECSClient } from '@aws-sdk/client-ecs';
import { DescribeRuleCommand, EventBridgeClient, PutRuleCommand } from '@aws-sdk/client-eventbridge';
import { CreateUserCommand, GetUserCommand, IAMClient } from '@aws-sdk/client-iam';
import { CreateStreamCommand, DescribeStreamSummaryCommand, KinesisClient } from '@aws-sdk/client-kinesis';
import { CreateKeyCommand, DescribeKeyCommand, KMSClient } from '@aws-sdk/client-kms';
import { CreateFunctionCommand, GetFunctionCommand, LambdaClient } from '@aws-sdk/client-lambda';
import { CreateDBParameterGroupCommand, DescribeDBParameterGroupsCommand, RDSClient } from '@aws-sdk/client-rds';
import { CreateHostedZoneCommand, GetHostedZoneCommand, Route53Client } from '@aws-sdk/client-route-53';
import { CreateBucketCommand, GetObjectCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { GetPublicAccessBlockCommand, PutPublicAccessBlockCommand, S3ControlClient } from '@aws-sdk/client-s3-control';
import { CreateSecretCommand, DescribeSecretCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { CreateTopicCommand, GetTopicAttributesCommand, SNSClient } from '@aws-sdk/client-sns';
import { CreateQueueCommand, GetQueueUrlCommand, SQSClient } from '@aws-sdk/client-sqs';
import { GetParameterCommand, PutParameterCommand, SSMClient } from '@aws-sdk/client-ssm';
import { AssumeRoleWithWebIdentityCommand, GetCallerIdentityCommand, STSClient } from '@aws-sdk/client-sts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createFileBlobStore } from '@airlock/blob';
import { startEmbeddedAirlock, type AirlockUnderTest } from '../support/airlock.js';
import { createAwsWorld, type AwsWorld } from '../support/aws-world.js';
import { startIdp } from '../support/idp.js';

/**
 * The compatibility matrix (issue 4): for each of 20 services, a representative create and read made by three real
 * clients — the AWS SDK for JavaScript v3, the AWS CLI and boto3 — through an embedded Airlock to moto with signature
 * and IAM checks on. Each call must succeed and must be recorded with the operation, IAM action and (where the
 * catalogue derives one) resource ARN that it really is.
 *
 * S3 Control's clients put the account id in front of the endpoint's host (`123456789012.localhost:<port>`), so every
 * client points at `http://localhost:<port>` and resolves `*.localhost` to 127.0.0.1 (RFC 6761), the way wildcard DNS
 * for an Airlock host name would: the SDK through its agent's lookup, Python through tests/clients/wildcard-localhost.
 */

const run = promisify(execFile);
const repoRoot = fileURLToPath(new URL('../..', import.meta.url));
const sessionKeys = `compat-1:${randomBytes(32).toString('base64')}`;
const account = '123456789012';
const region = 'us-east-1';
/** boto3 runs in another region, to show that global services (IAM, Route 53) are still signed for and recorded in us-east-1. */
const regionOf = (client: ClientName) => (client === 'boto3' ? 'us-west-2' : region);
const template = JSON.stringify({ Resources: { Topic: { Type: 'AWS::SNS::Topic' } } });

const clients = ['sdk', 'cli', 'boto3'] as const;
type ClientName = (typeof clients)[number];

/** What a client saw for one service. `code`/`status` come from the AWS error when a call failed. */
interface Outcome {
  ok: boolean;
  code?: string;
  status?: number;
  message?: string;
}

/** One call each client makes, as the recorder must name it. */
interface ExpectedCall {
  operation: string;
  action: string;
  /** A resource ARN the catalogue derives for the call, when it derives one (a pattern when it holds an id AWS made). */
  resource?: string | RegExp;
}

type Sdk = ReturnType<typeof sdkClients>;
type Aws = (...args: string[]) => Promise<Record<string, unknown>>;

interface ServiceCase {
  /** The matrix's name, the boto3 script's key. */
  name: string;
  /** The SigV4 signing name the recorder names the call's service by. */
  signingName: string;
  /** IAM and Route 53 are global: whatever the agent's region, clients sign them for us-east-1. */
  global?: boolean;
  /**
   * The AWS CLI v1 ignores AWS_ENDPOINT_URL for SQS and RDS (also EMR, DocumentDB, Neptune, Health) in us-east-1: its
   * `overridesslcommonname` customization replaces the endpoint with the legacy host (queue.amazonaws.com,
   * rds.amazonaws.com) unless `--endpoint-url` is given, so an agent on CLI v1 must pass the flag for these.
   */
  cliNeedsEndpointFlag?: boolean;
  sdk(sdk: Sdk, n: string): Promise<void>;
  cli(aws: Aws, n: string): Promise<void>;
  /** The calls a client makes with name prefix `n` in region `r`. */
  calls(n: string, r: string): ExpectedCall[];
}

const cases: ServiceCase[] = [
  {
    name: 's3',
    signingName: 's3',
    async sdk({ s3 }, n) {
      await s3.send(new CreateBucketCommand({ Bucket: `${n}-bucket` }));
      await s3.send(new PutObjectCommand({ Bucket: `${n}-bucket`, Key: 'hello.txt', Body: 'hello from the sdk' }));
      const got = await s3.send(new GetObjectCommand({ Bucket: `${n}-bucket`, Key: 'hello.txt' }));
      expect(await got.Body!.transformToString()).toBe('hello from the sdk');
    },
    async cli(aws, n) {
      await aws('s3api', 'create-bucket', '--bucket', `${n}-bucket`);
      await aws('s3api', 'put-object', '--bucket', `${n}-bucket`, '--key', 'hello.txt', '--body', cliFiles.hello);
      await aws('s3api', 'get-object', '--bucket', `${n}-bucket`, '--key', 'hello.txt', cliFiles.download);
    },
    calls: (n) => [
      { operation: 'CreateBucket', action: 's3:CreateBucket', resource: `arn:aws:s3:::${n}-bucket` },
      { operation: 'PutObject', action: 's3:PutObject', resource: `arn:aws:s3:::${n}-bucket/hello.txt` },
      { operation: 'GetObject', action: 's3:GetObject', resource: `arn:aws:s3:::${n}-bucket/hello.txt` },
    ],
  },
  {
    name: 's3control',
    signingName: 's3',
    async sdk({ s3control }) {
      await s3control.send(new PutPublicAccessBlockCommand({ AccountId: account, PublicAccessBlockConfiguration: { BlockPublicAcls: true } }));
      await s3control.send(new GetPublicAccessBlockCommand({ AccountId: account }));
    },
    async cli(aws) {
      await aws('s3control', 'put-public-access-block', '--account-id', account, '--public-access-block-configuration', 'BlockPublicAcls=true');
      await aws('s3control', 'get-public-access-block', '--account-id', account);
    },
    calls: () => [
      { operation: 'PutPublicAccessBlock', action: 's3:PutAccountPublicAccessBlock' },
      { operation: 'GetPublicAccessBlock', action: 's3:GetAccountPublicAccessBlock' },
    ],
  },
  {
    name: 'sts',
    signingName: 'sts',
    async sdk({ sts }) {
      expect((await sts.send(new GetCallerIdentityCommand({}))).Account).toBe(account);
    },
    async cli(aws) {
      expect((await aws('sts', 'get-caller-identity')).Account).toBe(account);
    },
    calls: () => [{ operation: 'GetCallerIdentity', action: 'sts:GetCallerIdentity' }],
  },
  {
    name: 'iam',
    signingName: 'iam',
    global: true,
    async sdk({ iam }, n) {
      await iam.send(new CreateUserCommand({ UserName: `${n}-user` }));
      await iam.send(new GetUserCommand({ UserName: `${n}-user` }));
    },
    async cli(aws, n) {
      await aws('iam', 'create-user', '--user-name', `${n}-user`);
      await aws('iam', 'get-user', '--user-name', `${n}-user`);
    },
    calls: (n) => [
      { operation: 'CreateUser', action: 'iam:CreateUser', resource: `arn:aws:iam::${account}:user/${n}-user` },
      { operation: 'GetUser', action: 'iam:GetUser', resource: `arn:aws:iam::${account}:user/${n}-user` },
    ],
  },
  {
    name: 'ec2',
    signingName: 'ec2',
    async sdk({ ec2 }, n) {
      await ec2.send(new CreateSecurityGroupCommand({ GroupName: `${n}-sg`, Description: 'compat' }));
      await ec2.send(new DescribeSecurityGroupsCommand({ GroupNames: [`${n}-sg`] }));
    },
    async cli(aws, n) {
      await aws('ec2', 'create-security-group', '--group-name', `${n}-sg`, '--description', 'compat');
      await aws('ec2', 'describe-security-groups', '--group-names', `${n}-sg`);
    },
    calls: () => [
      { operation: 'CreateSecurityGroup', action: 'ec2:CreateSecurityGroup' },
      { operation: 'DescribeSecurityGroups', action: 'ec2:DescribeSecurityGroups' },
    ],
  },
  {
    name: 'lambda',
    signingName: 'lambda',
    async sdk({ lambda }, n) {
      const ZipFile = await readFile(cliFiles.zip);
      await lambda.send(new CreateFunctionCommand({ FunctionName: `${n}-fn`, Runtime: 'python3.12', Role: cliFiles.roleArn, Handler: 'index.handler', Code: { ZipFile } }));
      await lambda.send(new GetFunctionCommand({ FunctionName: `${n}-fn` }));
    },
    async cli(aws, n) {
      await aws('lambda', 'create-function', '--function-name', `${n}-fn`, '--runtime', 'python3.12', '--role', cliFiles.roleArn, '--handler', 'index.handler', '--zip-file', `fileb://${cliFiles.zip}`);
      await aws('lambda', 'get-function', '--function-name', `${n}-fn`);
    },
    calls: (n, r) => [
      { operation: 'CreateFunction', action: 'lambda:CreateFunction', resource: `arn:aws:lambda:${r}:${account}:function:${n}-fn` },
      { operation: 'GetFunction', action: 'lambda:GetFunction', resource: `arn:aws:lambda:${r}:${account}:function:${n}-fn` },
    ],
  },
  {
    name: 'dynamodb',
    signingName: 'dynamodb',
    async sdk({ dynamodb }, n) {
      await dynamodb.send(
        new CreateTableCommand({
          TableName: `${n}-table`,
          AttributeDefinitions: [{ AttributeName: 'id', AttributeType: 'S' }],
          KeySchema: [{ AttributeName: 'id', KeyType: 'HASH' }],
          BillingMode: 'PAY_PER_REQUEST',
        }),
      );
      await dynamodb.send(new DescribeTableCommand({ TableName: `${n}-table` }));
    },
    async cli(aws, n) {
      await aws(
        'dynamodb', 'create-table', '--table-name', `${n}-table`, '--attribute-definitions', 'AttributeName=id,AttributeType=S',
        '--key-schema', 'AttributeName=id,KeyType=HASH', '--billing-mode', 'PAY_PER_REQUEST',
      );
      await aws('dynamodb', 'describe-table', '--table-name', `${n}-table`);
    },
    calls: (n, r) => [
      { operation: 'CreateTable', action: 'dynamodb:CreateTable', resource: `arn:aws:dynamodb:${r}:${account}:table/${n}-table` },
      { operation: 'DescribeTable', action: 'dynamodb:DescribeTable', resource: `arn:aws:dynamodb:${r}:${account}:table/${n}-table` },
    ],
  },
  {
    name: 'secretsmanager',
    signingName: 'secretsmanager',
    async sdk({ secretsmanager }, n) {
      await secretsmanager.send(new CreateSecretCommand({ Name: `${n}-secret`, SecretString: 's3cr3t-value' }));
      await secretsmanager.send(new DescribeSecretCommand({ SecretId: `${n}-secret` }));
    },
    async cli(aws, n) {
      await aws('secretsmanager', 'create-secret', '--name', `${n}-secret`, '--secret-string', 's3cr3t-value');
      await aws('secretsmanager', 'describe-secret', '--secret-id', `${n}-secret`);
    },
    calls: (n, r) => [
      { operation: 'CreateSecret', action: 'secretsmanager:CreateSecret', resource: `arn:aws:secretsmanager:${r}:${account}:secret:${n}-secret` },
      { operation: 'DescribeSecret', action: 'secretsmanager:DescribeSecret', resource: `arn:aws:secretsmanager:${r}:${account}:secret:${n}-secret` },
    ],
  },
  {
    name: 'ssm',
    signingName: 'ssm',
    async sdk({ ssm }, n) {
      await ssm.send(new PutParameterCommand({ Name: `${n}-param`, Value: 'v', Type: 'String' }));
      // Parameter values are masked by the default profile, and the stock client still parses the answer.
      expect((await ssm.send(new GetParameterCommand({ Name: `${n}-param` }))).Parameter?.Value).toBe('[MASKED:parameter-value]');
    },
    async cli(aws, n) {
      await aws('ssm', 'put-parameter', '--name', `${n}-param`, '--value', 'v', '--type', 'String');
      expect(await aws('ssm', 'get-parameter', '--name', `${n}-param`)).toMatchObject({ Parameter: { Value: '[MASKED:parameter-value]' } });
    },
    calls: (n, r) => [
      { operation: 'PutParameter', action: 'ssm:PutParameter', resource: `arn:aws:ssm:${r}:${account}:parameter/${n}-param` },
      { operation: 'GetParameter', action: 'ssm:GetParameter', resource: `arn:aws:ssm:${r}:${account}:parameter/${n}-param` },
    ],
  },
  {
    name: 'sqs',
    signingName: 'sqs',
    cliNeedsEndpointFlag: true,
    async sdk({ sqs }, n) {
      await sqs.send(new CreateQueueCommand({ QueueName: `${n}-queue` }));
      await sqs.send(new GetQueueUrlCommand({ QueueName: `${n}-queue` }));
    },
    async cli(aws, n) {
      await aws('sqs', 'create-queue', '--queue-name', `${n}-queue`);
      await aws('sqs', 'get-queue-url', '--queue-name', `${n}-queue`);
    },
    calls: (n, r) => [
      { operation: 'CreateQueue', action: 'sqs:CreateQueue', resource: `arn:aws:sqs:${r}:${account}:${n}-queue` },
      { operation: 'GetQueueUrl', action: 'sqs:GetQueueUrl', resource: `arn:aws:sqs:${r}:${account}:${n}-queue` },
    ],
  },
  {
    name: 'sns',
    signingName: 'sns',
    async sdk({ sns }, n) {
      const { TopicArn } = await sns.send(new CreateTopicCommand({ Name: `${n}-topic` }));
      await sns.send(new GetTopicAttributesCommand({ TopicArn }));
    },
    async cli(aws, n) {
      const { TopicArn } = await aws('sns', 'create-topic', '--name', `${n}-topic`);
      await aws('sns', 'get-topic-attributes', '--topic-arn', String(TopicArn));
    },
    calls: (n, r) => [
      { operation: 'CreateTopic', action: 'sns:CreateTopic', resource: `arn:aws:sns:${r}:${account}:${n}-topic` },
      { operation: 'GetTopicAttributes', action: 'sns:GetTopicAttributes', resource: `arn:aws:sns:${r}:${account}:${n}-topic` },
    ],
  },
  {
    name: 'kms',
    signingName: 'kms',
    async sdk({ kms }, n) {
      const { KeyMetadata } = await kms.send(new CreateKeyCommand({ Description: `${n}-key` }));
      await kms.send(new DescribeKeyCommand({ KeyId: KeyMetadata?.KeyId }));
    },
    async cli(aws, n) {
      const { KeyMetadata } = (await aws('kms', 'create-key', '--description', `${n}-key`)) as { KeyMetadata?: { KeyId?: string } };
      await aws('kms', 'describe-key', '--key-id', String(KeyMetadata?.KeyId));
    },
    calls: (_n, r) => [
      { operation: 'CreateKey', action: 'kms:CreateKey' },
      { operation: 'DescribeKey', action: 'kms:DescribeKey', resource: new RegExp(`^arn:aws:kms:${r}:${account}:key/[0-9a-f-]{36}$`) },
    ],
  },
  {
    name: 'logs',
    signingName: 'logs',
    async sdk({ logs }, n) {
      await logs.send(new CreateLogGroupCommand({ logGroupName: `${n}-logs` }));
      await logs.send(new DescribeLogGroupsCommand({ logGroupNamePrefix: `${n}-logs` }));
    },
    async cli(aws, n) {
      await aws('logs', 'create-log-group', '--log-group-name', `${n}-logs`);
      await aws('logs', 'describe-log-groups', '--log-group-name-prefix', `${n}-logs`);
    },
    calls: (n, r) => [
      { operation: 'CreateLogGroup', action: 'logs:CreateLogGroup', resource: `arn:aws:logs:${r}:${account}:log-group:${n}-logs` },
      { operation: 'DescribeLogGroups', action: 'logs:DescribeLogGroups' },
    ],
  },
  {
    name: 'cloudformation',
    signingName: 'cloudformation',
    async sdk({ cloudformation }, n) {
      await cloudformation.send(new CreateStackCommand({ StackName: `${n}-stack`, TemplateBody: template }));
      await cloudformation.send(new DescribeStacksCommand({ StackName: `${n}-stack` }));
    },
    async cli(aws, n) {
      await aws('cloudformation', 'create-stack', '--stack-name', `${n}-stack`, '--template-body', template);
      await aws('cloudformation', 'describe-stacks', '--stack-name', `${n}-stack`);
    },
    calls: (n, r) => [
      { operation: 'CreateStack', action: 'cloudformation:CreateStack', resource: `arn:aws:cloudformation:${r}:${account}:stack/${n}-stack/*` },
      { operation: 'DescribeStacks', action: 'cloudformation:DescribeStacks', resource: `arn:aws:cloudformation:${r}:${account}:stack/${n}-stack/*` },
    ],
  },
  {
    name: 'route53',
    signingName: 'route53',
    global: true,
    async sdk({ route53 }, n) {
      const { HostedZone } = await route53.send(new CreateHostedZoneCommand({ Name: `${n}.example.com`, CallerReference: `${n}-ref` }));
      await route53.send(new GetHostedZoneCommand({ Id: HostedZone?.Id?.split('/').pop() }));
    },
    async cli(aws, n) {
      const { HostedZone } = (await aws('route53', 'create-hosted-zone', '--name', `${n}.example.com`, '--caller-reference', `${n}-ref`)) as { HostedZone?: { Id?: string } };
      await aws('route53', 'get-hosted-zone', '--id', String(HostedZone?.Id?.split('/').pop()));
    },
    calls: () => [
      { operation: 'CreateHostedZone', action: 'route53:CreateHostedZone' },
      { operation: 'GetHostedZone', action: 'route53:GetHostedZone', resource: /^arn:aws:route53:::hostedzone\/[A-Z0-9]+$/ },
    ],
  },
  {
    name: 'ecr',
    signingName: 'ecr',
    async sdk({ ecr }, n) {
      await ecr.send(new CreateRepositoryCommand({ repositoryName: `${n}-repo` }));
      await ecr.send(new DescribeRepositoriesCommand({ repositoryNames: [`${n}-repo`] }));
    },
    async cli(aws, n) {
      await aws('ecr', 'create-repository', '--repository-name', `${n}-repo`);
      await aws('ecr', 'describe-repositories', '--repository-names', `${n}-repo`);
    },
    calls: (n, r) => [
      { operation: 'CreateRepository', action: 'ecr:CreateRepository', resource: `arn:aws:ecr:${r}:${account}:repository/${n}-repo` },
      { operation: 'DescribeRepositories', action: 'ecr:DescribeRepositories', resource: `arn:aws:ecr:${r}:${account}:repository/${n}-repo` },
    ],
  },
  {
    name: 'ecs',
    signingName: 'ecs',
    async sdk({ ecs }, n) {
      await ecs.send(new CreateClusterCommand({ clusterName: `${n}-cluster` }));
      await ecs.send(new DescribeClustersCommand({ clusters: [`${n}-cluster`] }));
    },
    async cli(aws, n) {
      await aws('ecs', 'create-cluster', '--cluster-name', `${n}-cluster`);
      await aws('ecs', 'describe-clusters', '--clusters', `${n}-cluster`);
    },
    calls: (n, r) => [
      { operation: 'CreateCluster', action: 'ecs:CreateCluster', resource: `arn:aws:ecs:${r}:${account}:cluster/${n}-cluster` },
      { operation: 'DescribeClusters', action: 'ecs:DescribeClusters', resource: `arn:aws:ecs:${r}:${account}:cluster/${n}-cluster` },
    ],
  },
  {
    name: 'rds',
    signingName: 'rds',
    cliNeedsEndpointFlag: true,
    async sdk({ rds }, n) {
      await rds.send(new CreateDBParameterGroupCommand({ DBParameterGroupName: `${n}-pg`, DBParameterGroupFamily: 'postgres16', Description: 'compat' }));
      await rds.send(new DescribeDBParameterGroupsCommand({ DBParameterGroupName: `${n}-pg` }));
    },
    async cli(aws, n) {
      await aws('rds', 'create-db-parameter-group', '--db-parameter-group-name', `${n}-pg`, '--db-parameter-group-family', 'postgres16', '--description', 'compat');
      await aws('rds', 'describe-db-parameter-groups', '--db-parameter-group-name', `${n}-pg`);
    },
    calls: (n, r) => [
      { operation: 'CreateDBParameterGroup', action: 'rds:CreateDBParameterGroup', resource: `arn:aws:rds:${r}:${account}:pg:${n}-pg` },
      { operation: 'DescribeDBParameterGroups', action: 'rds:DescribeDBParameterGroups', resource: `arn:aws:rds:${r}:${account}:pg:${n}-pg` },
    ],
  },
  {
    name: 'kinesis',
    signingName: 'kinesis',
    async sdk({ kinesis }, n) {
      await kinesis.send(new CreateStreamCommand({ StreamName: `${n}-stream`, ShardCount: 1 }));
      await kinesis.send(new DescribeStreamSummaryCommand({ StreamName: `${n}-stream` }));
    },
    async cli(aws, n) {
      await aws('kinesis', 'create-stream', '--stream-name', `${n}-stream`, '--shard-count', '1');
      await aws('kinesis', 'describe-stream-summary', '--stream-name', `${n}-stream`);
    },
    calls: (n, r) => [
      { operation: 'CreateStream', action: 'kinesis:CreateStream', resource: `arn:aws:kinesis:${r}:${account}:stream/${n}-stream` },
      { operation: 'DescribeStreamSummary', action: 'kinesis:DescribeStreamSummary', resource: `arn:aws:kinesis:${r}:${account}:stream/${n}-stream` },
    ],
  },
  {
    name: 'events',
    signingName: 'events',
    async sdk({ events }, n) {
      await events.send(new PutRuleCommand({ Name: `${n}-rule`, ScheduleExpression: 'rate(5 minutes)' }));
      await events.send(new DescribeRuleCommand({ Name: `${n}-rule` }));
    },
    async cli(aws, n) {
      await aws('events', 'put-rule', '--name', `${n}-rule`, '--schedule-expression', 'rate(5 minutes)');
      await aws('events', 'describe-rule', '--name', `${n}-rule`);
    },
    calls: (n, r) => [
      { operation: 'PutRule', action: 'events:PutRule', resource: `arn:aws:events:${r}:${account}:rule/${n}-rule` },
      { operation: 'DescribeRule', action: 'events:DescribeRule', resource: `arn:aws:events:${r}:${account}:rule/${n}-rule` },
    ],
  },
];

/** Files the clients read, set up once. */
const cliFiles = { hello: '', download: '', zip: '', roleArn: '' };

/** Each client acts as its own OIDC subject, so its session's events can be told apart; names are unique per client. */
const subjectOf = (client: ClientName) => `compat-${client}`;
const prefixOf = (client: ClientName) => `compat-${client === 'boto3' ? 'py' : client}`;

/** `<anything>.localhost` resolves to 127.0.0.1, as wildcard DNS for an Airlock host name would (S3 Control's account-id host prefix). */
const wildcardLocalhost: LookupFunction = (hostname, options, callback) => {
  dnsLookup(hostname === 'localhost' || hostname.endsWith('.localhost') ? '127.0.0.1' : hostname, options, callback);
};

function sdkClients(endpoint: string, credentials: { accessKeyId: string; secretAccessKey: string; sessionToken: string }) {
  const httpAgent = new Agent({ keepAlive: true, lookup: wildcardLocalhost });
  const config = { region, endpoint, credentials, maxAttempts: 1, requestHandler: { httpAgent } };
  return {
    s3: new S3Client({ ...config, forcePathStyle: true }),
    s3control: new S3ControlClient(config),
    sts: new STSClient(config),
    iam: new IAMClient(config),
    ec2: new EC2Client(config),
    lambda: new LambdaClient(config),
    dynamodb: new DynamoDBClient(config),
    secretsmanager: new SecretsManagerClient(config),
    ssm: new SSMClient(config),
    sqs: new SQSClient(config),
    sns: new SNSClient(config),
    kms: new KMSClient(config),
    logs: new CloudWatchLogsClient(config),
    cloudformation: new CloudFormationClient(config),
    route53: new Route53Client(config),
    ecr: new ECRClient(config),
    ecs: new ECSClient(config),
    rds: new RDSClient(config),
    kinesis: new KinesisClient(config),
    events: new EventBridgeClient(config),
  };
}

interface RecordedCall {
  principal?: { subject?: string };
  call?: { service?: string; operation?: string; action?: string; resources?: string[]; region?: string };
  decision?: string;
  upstreamStatus?: number;
  errorCode?: string;
}

describe('the compatibility matrix: 20 services × the AWS SDK v3, the AWS CLI and boto3, through Airlock to moto', () => {
  let world: AwsWorld;
  let idp: Awaited<ReturnType<typeof startIdp>>;
  let airlock: AirlockUnderTest;
  let scratch: string;
  let python: string;
  let endpoint: string;
  const outcomes = new Map<ClientName, Map<string, Outcome>>();
  let recorded: RecordedCall[] = [];
  let sdkCredentials: { accessKeyId: string; secretAccessKey: string; sessionToken: string };
  const started = Date.now();

  beforeAll(async () => {
    scratch = await mkdtemp(join(tmpdir(), 'airlock-compat-'));
    [world, idp] = await Promise.all([
      createAwsWorld({ rolePolicy: { Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: '*', Resource: '*' }] } }),
      startIdp({ audience: 'airlock' }),
    ]);
    // The interpreter itself, not a version manager's shim: the CLI starts ~40 times.
    python = (await run('python3', ['-c', 'import sys; print(sys.executable)'])).stdout.trim();
    cliFiles.hello = join(scratch, 'hello.txt');
    cliFiles.download = join(scratch, 'download.txt');
    cliFiles.zip = join(scratch, 'function.zip');
    cliFiles.roleArn = world.roleArn;
    await writeFile(cliFiles.hello, 'hello from the cli');
    await run(python, ['-c', `import zipfile; z = zipfile.ZipFile(${JSON.stringify(cliFiles.zip)}, 'w'); z.writestr('index.py', 'def handler(event, context):\\n    return event\\n'); z.close()`]);

    airlock = await startEmbeddedAirlock({
      config: {
        identity: { issuers: [{ issuer: idp.issuer, audience: 'airlock' }] },
        upstream: { endpoint: world.moto.url },
        // Compatibility, not policy: iam:CreateUser and s3:PutPublicAccessBlock would wait for an approver under the default pack.
        policy: { files: [join(repoRoot, 'tests/support/allow-every-call.cedar')] },
        edge: { allowedRegions: [region, regionOf('boto3')] },
        logging: { level: 'warn' },
      },
      env: { ...world.vendingEnv, AIRLOCK_SESSION_KEYS: sessionKeys },
    });
    endpoint = airlock.url.replace('127.0.0.1', 'localhost');

    const [sdk, cli, boto3] = await Promise.all([runSdk(), runCli(), runBoto3()]);
    outcomes.set('sdk', sdk).set('cli', cli).set('boto3', boto3);
    const expectedCalls = cases.reduce((sum, c) => sum + c.calls('x', region).length, 0) * clients.length;
    recorded = await waitForRecordedCalls(expectedCalls);
    if (process.env.COMPAT_DUMP) await writeFile(process.env.COMPAT_DUMP, JSON.stringify(recorded, null, 1));
  }, 240_000);

  afterAll(async () => {
    console.log(`compatibility matrix: ${((Date.now() - started) / 1000).toFixed(1)} s\n${matrixSummary()}`);
    await airlock?.stop();
    await Promise.all([world?.stop(), idp?.stop()]);
    if (scratch) await rm(scratch, { recursive: true, force: true });
  });

  async function tokenFileFor(client: ClientName): Promise<string> {
    const path = join(scratch, `${client}.jwt`);
    await writeFile(path, await idp.issueToken({ clientId: subjectOf(client) }));
    return path;
  }

  /** The environment an agent gets: an endpoint, a token file and a role. Nothing else. */
  async function agentEnv(client: ClientName): Promise<Record<string, string>> {
    return {
      PATH: process.env.PATH ?? '',
      HOME: scratch,
      PYTHONPATH: join(repoRoot, 'tests/clients/wildcard-localhost'),
      AWS_ENDPOINT_URL: endpoint,
      AWS_WEB_IDENTITY_TOKEN_FILE: await tokenFileFor(client),
      AWS_ROLE_ARN: world.roleArn,
      AWS_ROLE_SESSION_NAME: `compat-${client}`,
      AWS_REGION: regionOf(client),
      AWS_DEFAULT_REGION: regionOf(client),
      AWS_CONFIG_FILE: join(scratch, 'no-config'),
      AWS_SHARED_CREDENTIALS_FILE: join(scratch, 'no-credentials'),
      AWS_MAX_ATTEMPTS: '1',
      AWS_PAGER: '',
    };
  }

  async function runSdk(): Promise<Map<string, Outcome>> {
    const { Credentials } = await new STSClient({ region, endpoint: airlock.url }).send(
      new AssumeRoleWithWebIdentityCommand({ RoleArn: world.roleArn, RoleSessionName: 'compat-sdk', WebIdentityToken: await idp.issueToken({ clientId: subjectOf('sdk') }) }),
    );
    sdkCredentials = { accessKeyId: Credentials!.AccessKeyId!, secretAccessKey: Credentials!.SecretAccessKey!, sessionToken: Credentials!.SessionToken! };
    const sdk = sdkClients(endpoint, sdkCredentials);
    const results = new Map<string, Outcome>();
    await Promise.all(
      cases.map(async (c) => {
        try {
          await c.sdk(sdk, prefixOf('sdk'));
          results.set(c.name, { ok: true });
        } catch (error) {
          const failure = error as { name?: string; message?: string; $metadata?: { httpStatusCode?: number } };
          results.set(c.name, { ok: false, code: failure.name, status: failure.$metadata?.httpStatusCode, message: failure.message });
        }
      }),
    );
    for (const client of Object.values(sdk)) client.destroy();
    return results;
  }

  async function runCli(): Promise<Map<string, Outcome>> {
    const env = await agentEnv('cli');
    const awsFor = (c: ServiceCase): Aws => async (...args) => {
      const flags = ['--output', 'json', ...(c.cliNeedsEndpointFlag ? ['--endpoint-url', endpoint] : [])];
      try {
        const { stdout } = await run(python, ['-m', 'awscli', ...args, ...flags], { env, maxBuffer: 16 * 1024 * 1024 });
        return stdout.trim() ? (JSON.parse(stdout) as Record<string, unknown>) : {};
      } catch (error) {
        const stderr = String((error as { stderr?: string }).stderr ?? error);
        const code = /An error occurred \(([^)]+)\)/.exec(stderr)?.[1];
        throw Object.assign(new Error(stderr.trim()), { code });
      }
    };
    const results = new Map<string, Outcome>();
    // Two cores: three CLI processes at a time, each service's calls in order.
    const queue = [...cases];
    const worker = async () => {
      for (let c = queue.shift(); c; c = queue.shift()) {
        try {
          await c.cli(awsFor(c), prefixOf('cli'));
          results.set(c.name, { ok: true });
        } catch (error) {
          const failure = error as { code?: string; message?: string };
          results.set(c.name, { ok: false, code: failure.code ?? 'CliFailure', message: failure.message });
        }
      }
    };
    await Promise.all([worker(), worker(), worker()]);
    return results;
  }

  async function runBoto3(): Promise<Map<string, Outcome>> {
    const { stdout } = await run(python, [join(repoRoot, 'tests/clients/boto3-compat.py'), prefixOf('boto3'), cliFiles.zip, world.roleArn], {
      env: await agentEnv('boto3'),
      maxBuffer: 16 * 1024 * 1024,
    });
    const parsed = JSON.parse(stdout.trim().split('\n').pop() ?? '{}') as Record<string, Outcome>;
    return new Map(Object.entries(parsed));
  }

  async function readRecordedCalls(): Promise<RecordedCall[]> {
    const recordings = await createFileBlobStore({ dir: join(airlock.dataDir, 'recordings') });
    const texts: string[] = [];
    for await (const { key } of recordings.list('sessions/')) texts.push(Buffer.from((await recordings.get(key)) ?? []).toString('utf8'));
    await recordings.close();
    return texts
      .flatMap((text) => text.split('\n').filter(Boolean))
      .map((line) => (JSON.parse(line) as { call?: RecordedCall }).call)
      .filter((call): call is RecordedCall => call !== undefined);
  }

  async function waitForRecordedCalls(minimum: number): Promise<RecordedCall[]> {
    for (let attempt = 0; attempt < 50; attempt++) {
      const calls = await readRecordedCalls();
      if (calls.filter((call) => call.principal?.subject?.startsWith('compat-')).length >= minimum) return calls;
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
    return readRecordedCalls();
  }

  function matrixSummary(): string {
    return cases
      .map((c) => `${c.name.padEnd(15)} ${clients.map((client) => {
        const outcome = outcomes.get(client)?.get(c.name);
        return `${client}=${outcome?.ok ? 'ok' : `${outcome?.code ?? '?'} ${outcome?.status ?? ''} ${(outcome?.message ?? '').slice(0, 160)}`}`;
      }).join('  ')}`)
      .join('\n');
  }

  it('the Kinesis client of the AWS SDK v3 answers through Airlock with its default HTTP/2 handler (h2c on the edge port)', async () => {
    // @aws-sdk/client-kinesis defaults to NodeHttp2Handler (SubscribeToShard needs HTTP/2), which speaks HTTP/2 with
    // prior knowledge to an http:// endpoint; the edge tells it from HTTP/1.1 by the connection preface.
    const kinesis = new KinesisClient({ region, endpoint, credentials: sdkCredentials, maxAttempts: 1 });
    try {
      const streamName = `${prefixOf('sdk')}-stream`;
      const answer = await kinesis.send(new DescribeStreamSummaryCommand({ StreamName: streamName }));
      expect(answer.StreamDescriptionSummary?.StreamName).toBe(streamName);
    } finally {
      kinesis.destroy();
    }
  });

  // boto3 (and the CLI) sign a global service for the client's region when AWS_ENDPOINT_URL is set: the endpoint rules
  // only pin us-east-1 for the AWS endpoint. The edge re-signs for us-east-1 upstream and records and decides the call
  // in the region it runs in.
  it('records IAM and Route 53 calls signed for us-west-2 in us-east-1, where they run', () => {
    const globalCalls = recorded.filter((call) => call.principal?.subject === subjectOf('boto3') && ['iam', 'route53'].includes(call.call?.service ?? ''));
    expect(globalCalls).not.toHaveLength(0);
    for (const call of globalCalls) expect(call.call?.region).toBe('us-east-1');
  });

  it.each(cases.map((c) => [c.name, c] as const))('%s', (_name, c) => {
    for (const client of clients) {
      const outcome = outcomes.get(client)?.get(c.name);
      expect({ client, service: c.name, ...outcome }).toMatchObject({ client, service: c.name, ok: true });
      const mine = recorded.filter((call) => call.principal?.subject === subjectOf(client) && call.call?.service === c.signingName);
      for (const expected of c.calls(prefixOf(client), regionOf(client))) {
        const seen = mine.filter((call) => call.call?.operation === expected.operation);
        expect(seen, `${client} ${expected.operation} recorded`).not.toHaveLength(0);
        for (const call of seen) {
          expect(call, `${client} ${expected.operation}`).toMatchObject({ decision: 'DECISION_ALLOW', call: { action: expected.action } });
          expect(call.call?.region, `${client} ${expected.operation} region`).toBe(c.global ? 'us-east-1' : regionOf(client));
          expect(call.upstreamStatus, `${client} ${expected.operation} answered by moto`).toBeGreaterThanOrEqual(200);
          expect(call.upstreamStatus, `${client} ${expected.operation} answered by moto`).toBeLessThan(300);
          if (typeof expected.resource === 'string') expect(call.call?.resources, `${client} ${expected.operation} resources`).toContain(expected.resource);
          else if (expected.resource) expect(call.call?.resources, `${client} ${expected.operation} resources`).toContainEqual(expect.stringMatching(expected.resource));
        }
      }
    }
  });
});
