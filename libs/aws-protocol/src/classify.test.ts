import { describe, expect, it } from 'vitest';
import { classify, type RequestFacts } from './classify.js';
import { serviceFor, serviceInfo } from './services.js';

const s3 = serviceInfo('s3')!;
const facts = (method: string, path: string, query: Record<string, string> = {}, headers: Record<string, string> = {}, extra: Partial<RequestFacts> = {}): RequestFacts => ({
  method,
  path,
  query,
  headers,
  partition: 'aws',
  region: 'eu-west-1',
  account: '111122223333',
  ...extra,
});
const json = (value: unknown) => Buffer.from(JSON.stringify(value));

describe('classify: S3 by method, path and sub-resource', () => {
  it.each([
    ['GET', '/', {}, {}, 'ListBuckets', 's3:ListAllMyBuckets', []],
    ['PUT', '/logs', {}, {}, 'CreateBucket', 's3:CreateBucket', ['arn:aws:s3:::logs']],
    ['HEAD', '/logs', {}, {}, 'HeadBucket', 's3:ListBucket', ['arn:aws:s3:::logs']],
    ['GET', '/logs', {}, {}, 'ListObjects', 's3:ListBucket', ['arn:aws:s3:::logs']],
    ['GET', '/logs/', { 'list-type': '2' }, {}, 'ListObjectsV2', 's3:ListBucket', ['arn:aws:s3:::logs']],
    ['GET', '/logs', { uploads: '' }, {}, 'ListMultipartUploads', 's3:ListBucketMultipartUploads', ['arn:aws:s3:::logs']],
    ['GET', '/logs', { location: '' }, {}, 'GetBucketLocation', 's3:GetBucketLocation', ['arn:aws:s3:::logs']],
    ['PUT', '/logs/a b/c', {}, {}, 'PutObject', 's3:PutObject', ['arn:aws:s3:::logs/a b/c']],
    ['GET', '/logs/k', { versionId: 'v1' }, {}, 'GetObject', 's3:GetObjectVersion', ['arn:aws:s3:::logs/k']],
    ['HEAD', '/logs/k', {}, {}, 'HeadObject', 's3:GetObject', ['arn:aws:s3:::logs/k']],
    ['PUT', '/logs/k', { partNumber: '1', uploadId: 'u' }, {}, 'UploadPart', 's3:PutObject', ['arn:aws:s3:::logs/k']],
    ['PUT', '/logs/k', { partNumber: '1', uploadId: 'u' }, { 'x-amz-copy-source': 'src/x' }, 'UploadPartCopy', 's3:PutObject', ['arn:aws:s3:::logs/k', 'arn:aws:s3:::src/x']],
    ['PUT', '/logs/k', {}, { 'x-amz-copy-source': '/src/a%20b?versionId=3' }, 'CopyObject', 's3:PutObject', ['arn:aws:s3:::logs/k', 'arn:aws:s3:::src/a b']],
    ['POST', '/logs/k', { uploads: '' }, {}, 'CreateMultipartUpload', 's3:PutObject', ['arn:aws:s3:::logs/k']],
    ['POST', '/logs/k', { uploadId: 'u' }, {}, 'CompleteMultipartUpload', 's3:PutObject', ['arn:aws:s3:::logs/k']],
    ['DELETE', '/logs/k', { uploadId: 'u' }, {}, 'AbortMultipartUpload', 's3:AbortMultipartUpload', ['arn:aws:s3:::logs/k']],
    ['GET', '/logs/k', { tagging: '' }, {}, 'GetObjectTagging', 's3:GetObjectTagging', ['arn:aws:s3:::logs/k']],
    ['PUT', '/logs', { tagging: '' }, {}, 'PutBucketTagging', 's3:PutBucketTagging', ['arn:aws:s3:::logs']],
    ['DELETE', '/logs', { policy: '' }, {}, 'DeleteBucketPolicy', 's3:DeleteBucketPolicy', ['arn:aws:s3:::logs']],
    ['DELETE', '/logs', { cors: '' }, {}, 'DeleteBucketCors', 's3:PutBucketCORS', ['arn:aws:s3:::logs']],
    ['POST', '/logs', { delete: '' }, {}, 'DeleteObjects', 's3:DeleteObject', ['arn:aws:s3:::logs']],
  ] as const)('%s %s %j %j is %s (%s)', (method, path, query, headers, operation, action, resources) => {
    expect(classify(s3, facts(method, path, query, headers))).toMatchObject({ service: 's3', operation, action, resources, known: true });
  });

  it('routes the raw path and decodes labels itself, so an encoded slash stays in the key', () => {
    const call = classify(s3, facts('GET', '/logs/a/b', {}, {}, { rawPath: '/logs/a%2Fb%3F%20c' }));
    expect(call).toMatchObject({ operation: 'GetObject', resources: ['arn:aws:s3:::logs/a/b? c'], parameters: { Bucket: 'logs', Key: 'a/b? c' } });
  });

  it('reads the bucket from a virtual host', () => {
    expect(classify(s3, facts('GET', '/dir/k', {}, {}, { hostPrefix: 'my.bucket' }))).toMatchObject({ operation: 'GetObject', resources: ['arn:aws:s3:::my.bucket/dir/k'] });
    expect(classify(s3, facts('GET', '/', { 'list-type': '2' }, {}, { hostPrefix: 'logs' }))).toMatchObject({ operation: 'ListObjectsV2', resources: ['arn:aws:s3:::logs'] });
  });

  it('tells reads from changes', () => {
    expect(classify(s3, facts('GET', '/logs/k')).readOnly).toBe(true);
    expect(classify(s3, facts('DELETE', '/logs/k')).readOnly).toBe(false);
  });

  it('leaves presign and SDK bookkeeping out of the parameters', () => {
    const call = classify(s3, facts('GET', '/logs/k', { 'X-Amz-Signature': 'abc', 'X-Amz-Credential': 'x', 'x-id': 'GetObject', 'response-content-type': 'text/plain' }));
    expect(call.parameters).toEqual({ Bucket: 'logs', Key: 'k', 'response-content-type': 'text/plain' });
  });
});

describe('classify: S3 Control', () => {
  it('is told apart from S3 by its path and account header, and carries the account as host prefix', () => {
    const head = { method: 'GET', rawPath: '/v20180820/accesspoint/ap1', rawQuery: '', headers: { 'x-amz-account-id': '111122223333' } };
    const service = serviceFor('s3', head)!;
    expect(service.id).toBe('s3control');
    expect(classify(service, facts('GET', head.rawPath, {}, head.headers))).toMatchObject({
      operation: 'GetAccessPoint',
      action: 's3:GetAccessPoint',
      resources: ['arn:aws:s3:eu-west-1:111122223333:accesspoint/ap1'],
      hostPrefix: '111122223333.',
    });
    // Without the header it is a bucket named v20180820.
    expect(serviceFor('s3', { ...head, headers: {} })?.id).toBe('s3');
  });

  it('takes the account from the Host when no header names it, and never a host prefix that is not DNS', () => {
    const service = serviceFor('s3', { method: 'GET', rawPath: '/v20180820/jobs', rawQuery: '', headers: { 'x-amz-account-id': '111122223333' } })!;
    expect(classify(service, facts('GET', '/v20180820/jobs', {}, { 'x-amz-account-id': '111122223333' }))).toMatchObject({ operation: 'ListJobs', hostPrefix: '111122223333.' });
    expect(classify(service, facts('GET', '/v20180820/jobs', {}, { 'x-amz-account-id': 'evil.com/x' })).hostPrefix).toBeUndefined();
  });
});

describe('classify: query and ec2 protocols (Action, Version)', () => {
  it('names query-protocol calls from the form body and masks secret-looking parameters', () => {
    const call = classify(serviceInfo('sts')!, {
      ...facts('POST', '/'),
      bodyParameters: { Action: 'AssumeRole', Version: '2011-06-15', RoleArn: 'arn:aws:iam::1:role/x', SerialNumber: 'x', TokenCode: '123456' },
    });
    expect(call).toEqual({
      service: 'sts',
      operation: 'AssumeRole',
      action: 'sts:AssumeRole',
      resources: ['arn:aws:iam::1:role/x'],
      parameters: { RoleArn: 'arn:aws:iam::1:role/x', SerialNumber: 'x', TokenCode: '[MASKED]' },
      known: true,
      readOnly: false,
    });
  });

  it('reads GET query-protocol calls from the query string', () => {
    expect(classify(serviceInfo('iam')!, facts('GET', '/', { Action: 'GetRole', Version: '2010-05-08', RoleName: 'agent' }))).toMatchObject({
      operation: 'GetRole',
      resources: ['arn:aws:iam::111122223333:role/agent'],
      readOnly: true,
    });
  });

  it('collects ec2 list members (InstanceId.N) into one resource each', () => {
    const call = classify(serviceInfo('ec2')!, { ...facts('POST', '/'), bodyParameters: { Action: 'StopInstances', Version: '2016-11-15', 'InstanceId.2': 'i-2', 'InstanceId.1': 'i-1' } });
    expect(call.resources).toEqual(['arn:aws:ec2:eu-west-1:111122223333:instance/i-1', 'arn:aws:ec2:eu-west-1:111122223333:instance/i-2']);
  });

  it('tells services sharing a signing name apart by Version (ELB v1 and v2)', () => {
    const body = (Version: string) => ({ ...facts('POST', '/'), bodyParameters: { Action: 'DescribeLoadBalancers', Version } });
    const elb = serviceInfo('elasticloadbalancing')!;
    expect(classify(elb, body('2015-12-01')).service).toBe('elasticloadbalancingv2');
    expect(classify(elb, body('2012-06-01')).service).toBe('elasticloadbalancing');
  });

  it('uses the IAM prefix where it differs from the signing name', () => {
    expect(classify(serviceInfo('monitoring')!, { ...facts('POST', '/'), bodyParameters: { Action: 'PutMetricData', Version: '2010-08-01' } }).action).toBe('cloudwatch:PutMetricData');
  });

  it('accepts query-protocol requests to a json service that still takes them (SQS)', () => {
    const call = classify(serviceInfo('sqs')!, {
      ...facts('POST', '/'),
      bodyParameters: { Action: 'DeleteQueue', Version: '2012-11-05', QueueUrl: 'https://sqs.eu-west-1.amazonaws.com/444455556666/jobs' },
    });
    expect(call).toMatchObject({ operation: 'DeleteQueue', resources: ['arn:aws:sqs:eu-west-1:444455556666:jobs'] });
  });
});

describe('classify: json protocol (X-Amz-Target)', () => {
  it('names json-protocol calls from X-Amz-Target', () => {
    const call = classify(serviceInfo('dynamodb')!, { ...facts('POST', '/', {}, { 'x-amz-target': 'DynamoDB_20120810.GetItem' }), bodyParameters: { TableName: 't' } });
    expect(call).toMatchObject({ operation: 'GetItem', action: 'dynamodb:GetItem', parameters: { TableName: 't' }, resources: ['arn:aws:dynamodb:eu-west-1:111122223333:table/t'] });
  });

  it('reads lists and map keys from the body', () => {
    const call = classify(serviceInfo('dynamodb')!, { ...facts('POST', '/', {}, { 'x-amz-target': 'DynamoDB_20120810.BatchWriteItem' }), body: json({ RequestItems: { a: [], b: [] } }) });
    expect(call.resources).toEqual(['arn:aws:dynamodb:eu-west-1:111122223333:table/a', 'arn:aws:dynamodb:eu-west-1:111122223333:table/b']);
  });

  it('takes an ARN given where a name is expected as the resource itself', () => {
    const arn = 'arn:aws:secretsmanager:eu-west-1:111122223333:secret:db-AbCdEf';
    const call = classify(serviceInfo('secretsmanager')!, { ...facts('POST', '/', {}, { 'x-amz-target': 'secretsmanager.GetSecretValue' }), body: json({ SecretId: arn }) });
    expect(call).toMatchObject({ resources: [arn], parameters: { SecretId: arn }, readOnly: true });
  });

  it('masks members the model marks sensitive', () => {
    const call = classify(serviceInfo('secretsmanager')!, {
      ...facts('POST', '/', {}, { 'x-amz-target': 'secretsmanager.PutSecretValue' }),
      body: json({ SecretId: 'db', SecretString: 'hunter2', ClientRequestToken: 'abc' }),
    });
    expect(call.parameters).toEqual({ SecretId: 'db', SecretString: '[MASKED]', ClientRequestToken: '[MASKED]' });
  });

  it('finds a sibling by its target prefix (DynamoDB Streams signs as dynamodb)', () => {
    const headers = { 'x-amz-target': 'DynamoDBStreams_20120810.GetRecords' };
    const service = serviceFor('dynamodb', { method: 'POST', rawPath: '/', rawQuery: '', headers })!;
    expect(service.endpointPrefix).toBe('streams.dynamodb');
    const call = classify(service, { ...facts('POST', '/', {}, headers), body: json({ ShardIterator: 'x' }) });
    expect(call).toMatchObject({ service: 'streams.dynamodb', operation: 'GetRecords', action: 'dynamodb:GetRecords' });
  });

  it('refuses a target prefix of another service', () => {
    expect(classify(serviceInfo('kms')!, facts('POST', '/', {}, { 'x-amz-target': 'DynamoDB_20120810.GetItem' })).known).toBe(false);
  });
});

describe('classify: rest-json', () => {
  it('matches URI templates and names Lambda actions', () => {
    const lambda = serviceInfo('lambda')!;
    expect(classify(lambda, facts('GET', '/2015-03-31/functions'))).toMatchObject({ operation: 'ListFunctions', action: 'lambda:ListFunctions', readOnly: true });
    expect(classify(lambda, facts('POST', '/2015-03-31/functions/fn/invocations', {}, {}, { body: json({ FunctionName: 'not-a-member' }) }))).toMatchObject({
      operation: 'Invoke',
      action: 'lambda:InvokeFunction',
      resources: ['arn:aws:lambda:eu-west-1:111122223333:function:fn'],
      parameters: { FunctionName: 'fn' },
    });
  });

  it('reads body members of REST calls whose body is an object of members', () => {
    const call = classify(serviceInfo('lambda')!, { ...facts('POST', '/2015-03-31/functions'), body: json({ FunctionName: 'new-fn', Runtime: 'nodejs20.x' }) });
    expect(call).toMatchObject({ operation: 'CreateFunction', resources: ['arn:aws:lambda:eu-west-1:111122223333:function:new-fn'], parameters: { FunctionName: 'new-fn', Runtime: 'nodejs20.x' } });
  });

  it('takes ARN-valued URI labels as resources in services without ARN rules', () => {
    const arn = 'arn:aws:states:eu-west-1:111122223333:stateMachine:x';
    const eks = serviceInfo('eks')!;
    const call = classify(eks, facts('GET', `/tags/${arn}`));
    expect(call).toMatchObject({ operation: 'ListTagsForResource', resources: [arn] });
  });

  it('tells REST services that share a signing name apart by route (bedrock and bedrock-runtime)', () => {
    expect(serviceFor('bedrock', { method: 'POST', rawPath: '/model/anthropic.claude/invoke', rawQuery: '', headers: {} })?.id).toBe('bedrock-runtime');
    expect(serviceFor('bedrock', { method: 'GET', rawPath: '/foundation-models', rawQuery: '', headers: {} })?.id).toBe('bedrock');
  });
});

describe('classify: unknown', () => {
  it('names what it cannot understand as unknown', () => {
    expect(classify(serviceInfo('lambda')!, facts('GET', '/2015-03-31/no-such-thing'))).toMatchObject({ known: false, operation: 'Unknown', action: 'lambda:Unknown' });
    expect(classify(serviceInfo('sts')!, { ...facts('POST', '/'), bodyParameters: { Action: '<script>' } })).toMatchObject({ known: false });
    expect(classify(serviceInfo('sts')!, { ...facts('POST', '/'), bodyParameters: { Action: 'NoSuchAction' } })).toMatchObject({ known: false });
    expect(classify(serviceInfo('sts')!, { ...facts('POST', '/'), bodyParameters: { Action: 'constructor' } })).toMatchObject({ known: false });
    expect(classify(serviceInfo('dynamodb')!, facts('POST', '/'))).toMatchObject({ known: false });
    expect(classify(s3, facts('PATCH', '/logs/k'))).toMatchObject({ known: false });
  });
});
