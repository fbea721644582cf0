/**
 * A labelled corpus of real-shaped AWS answers with planted secrets (must not survive masking) and look-alikes
 * (must survive unchanged). Values are made up; shapes follow what each service returns.
 */
export interface CorpusCase {
  name: string;
  service: string;
  operation: string;
  contentType: string;
  body: string;
  /** Planted secrets, as they appear on the wire: none may survive. */
  secrets: string[];
  /** Personal data, as it appears on the wire: masked by the "pii" profile only. */
  personal: string[];
  /** Values that look secret but are not: all must survive. */
  lookalikes: string[];
}

const secretKey = 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY';
const sessionToken = 'IQoJb3JpZ2luX2VjEJr//////////wEaCXVzLWVhc3QtMSJHMEUCIQDq7Wd2vXk9bT5ZgGmYx3yZ0rQpR8sLwN4kVfJhC2dE3AIgXyZ';
const jwt = 'eyJhbGciOiJSUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiJhZ2VudC0xIiwiaWF0IjoxNzAwMDAwMDAwfQ.c2lnbmF0dXJlLXBhcnQtb2YtdGhlLXRva2Vu';
const ghToken = 'ghp_' + 'aB3dE5fG7hJ9kL1mN3pQ5rS7tU9vW1xY3zA5';
const slackToken = 'xoxb-1234567890-0987654321-AbCdEfGhIjKlMnOpQrStUvWx';
const stripeKey = 'sk_live_' + '51HkQ2eLkdf9Xk2aBcD3eF4gH5iJ6kL7';
const gitlabToken = 'glpat-' + 'x7Yz9Qw3Er5Ty8Ui1Op2';
const dbPassword = 'Zq8#vT2!mW9xLp4R';
const apiKey = 'k9F2xQ7mZ4pL8wR3tY6u';
const pem = '-----BEGIN RSA PRIVATE KEY-----\\nMIIEowIBAAKCAQEAx0ln2JvYxq8LrQ3vQ2bJaBcD\\nq8LrQ3vQ2bJaBcDx0ln2JvY==\\n-----END RSA PRIVATE KEY-----';
const ec2Password = 'dGhpcyBpcyBhbiBlbmNyeXB0ZWQgV2luZG93cyBwYXNzd29yZA==';

const json = (value: unknown) => JSON.stringify(value);

export const corpus: CorpusCase[] = [
  {
    name: 'secretsmanager GetSecretValue (JSON secret)',
    service: 'secretsmanager',
    operation: 'GetSecretValue',
    contentType: 'application/x-amz-json-1.1',
    body: json({
      ARN: 'arn:aws:secretsmanager:us-east-1:123456789012:secret:prod/db-AbCdEf',
      Name: 'prod/db',
      VersionId: 'a1b2c3d4-5678-90ab-cdef-EXAMPLE11111',
      SecretString: json({ username: 'admin', password: dbPassword, host: 'db.internal', port: 5432 }),
      VersionStages: ['AWSCURRENT'],
      CreatedDate: 1700000000.123,
    }),
    secrets: [dbPassword],
    personal: [],
    lookalikes: ['a1b2c3d4-5678-90ab-cdef-EXAMPLE11111', 'arn:aws:secretsmanager:us-east-1:123456789012:secret:prod/db-AbCdEf', 'AWSCURRENT', '1700000000.123'],
  },
  {
    name: 'secretsmanager GetSecretValue (binary)',
    service: 'secretsmanager',
    operation: 'GetSecretValue',
    contentType: 'application/x-amz-json-1.1',
    body: json({ ARN: 'arn:aws:secretsmanager:us-east-1:123456789012:secret:blob-XyZ', Name: 'blob', SecretBinary: 'c3VwZXItc2VjcmV0LWJ5dGVz', VersionStages: ['AWSCURRENT'] }),
    secrets: ['c3VwZXItc2VjcmV0LWJ5dGVz'],
    personal: [],
    lookalikes: ['arn:aws:secretsmanager:us-east-1:123456789012:secret:blob-XyZ'],
  },
  {
    name: 'ssm GetParameter (SecureString, decrypted)',
    service: 'ssm',
    operation: 'GetParameter',
    contentType: 'application/x-amz-json-1.1',
    body: json({
      Parameter: {
        Name: '/prod/api/key',
        Type: 'SecureString',
        Value: apiKey,
        Version: 3,
        LastModifiedDate: 1700000000.5,
        ARN: 'arn:aws:ssm:us-east-1:123456789012:parameter/prod/api/key',
        DataType: 'text',
      },
    }),
    secrets: [apiKey],
    personal: [],
    lookalikes: ['/prod/api/key', 'SecureString', 'arn:aws:ssm:us-east-1:123456789012:parameter/prod/api/key'],
  },
  {
    name: 'lambda GetFunctionConfiguration',
    service: 'lambda',
    operation: 'GetFunctionConfiguration',
    contentType: 'application/json',
    body: json({
      FunctionName: 'orders',
      FunctionArn: 'arn:aws:lambda:us-east-1:123456789012:function:orders',
      Runtime: 'nodejs20.x',
      Role: 'arn:aws:iam::123456789012:role/orders-role',
      Handler: 'index.handler',
      CodeSize: 5120,
      Description: 'Contact ops@example.com or +1 415 555 0100 for help',
      Timeout: 30,
      MemorySize: 256,
      LastModified: '2024-01-15T10:00:00.000+0000',
      CodeSha256: 'YFgDgEKG3ugvF1+pX64gV6tu9qNuIYNUdgJm8nCxsm4=',
      Version: '$LATEST',
      Environment: { Variables: { DATABASE_URL: `postgres://orders:${dbPassword}@db.internal:5432/orders`, STRIPE_KEY: stripeKey, LOG_LEVEL: 'info' } },
      TracingConfig: { Mode: 'PassThrough' },
      RevisionId: '88ebe1e1-bfdf-4dc3-84de-3017268fa1ff',
      State: 'Active',
    }),
    secrets: [dbPassword, stripeKey],
    personal: ['ops@example.com', '+1 415 555 0100'],
    lookalikes: ['YFgDgEKG3ugvF1+pX64gV6tu9qNuIYNUdgJm8nCxsm4=', '88ebe1e1-bfdf-4dc3-84de-3017268fa1ff', 'arn:aws:iam::123456789012:role/orders-role', '2024-01-15T10:00:00.000+0000'],
  },
  {
    name: 'ecs DescribeTaskDefinition',
    service: 'ecs',
    operation: 'DescribeTaskDefinition',
    contentType: 'application/x-amz-json-1.1',
    body: json({
      taskDefinition: {
        taskDefinitionArn: 'arn:aws:ecs:us-east-1:123456789012:task-definition/web:7',
        family: 'web',
        revision: 7,
        containerDefinitions: [
          {
            name: 'web',
            image: '123456789012.dkr.ecr.us-east-1.amazonaws.com/web:1.4.2',
            cpu: 256,
            environment: [
              { name: 'GITHUB_TOKEN', value: ghToken },
              { name: 'SLACK_TOKEN', value: slackToken },
              { name: 'NODE_ENV', value: 'production' },
            ],
            secrets: [{ name: 'DB_PASSWORD', valueFrom: 'arn:aws:secretsmanager:us-east-1:123456789012:secret:prod/db-AbCdEf' }],
            command: ['node', 'server.js', `--api_key=${apiKey}`],
          },
        ],
        status: 'ACTIVE',
      },
    }),
    secrets: [ghToken, slackToken, apiKey],
    personal: [],
    lookalikes: ['123456789012.dkr.ecr.us-east-1.amazonaws.com/web:1.4.2', 'arn:aws:secretsmanager:us-east-1:123456789012:secret:prod/db-AbCdEf', 'GITHUB_TOKEN', 'DB_PASSWORD'],
  },
  {
    name: 'sts AssumeRole (XML)',
    service: 'sts',
    operation: 'AssumeRole',
    contentType: 'text/xml',
    body:
      '<AssumeRoleResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/">\n  <AssumeRoleResult>\n    <SourceIdentity>alice</SourceIdentity>\n' +
      '    <AssumedRoleUser>\n      <Arn>arn:aws:sts::123456789012:assumed-role/demo/session</Arn>\n      <AssumedRoleId>AROA3XFRBF535PLBIFPI4:session</AssumedRoleId>\n    </AssumedRoleUser>\n' +
      `    <Credentials>\n      <AccessKeyId>ASIAIOSFODNN7EXAMPLE</AccessKeyId>\n      <SecretAccessKey>${secretKey}</SecretAccessKey>\n      <SessionToken>${sessionToken}</SessionToken>\n` +
      '      <Expiration>2024-01-01T00:00:00Z</Expiration>\n    </Credentials>\n    <PackedPolicySize>6</PackedPolicySize>\n  </AssumeRoleResult>\n' +
      '  <ResponseMetadata>\n    <RequestId>c6104cbe-af31-11e0-8154-cbc7ccf896c7</RequestId>\n  </ResponseMetadata>\n</AssumeRoleResponse>',
    secrets: ['ASIAIOSFODNN7EXAMPLE', secretKey, sessionToken],
    personal: [],
    lookalikes: ['AROA3XFRBF535PLBIFPI4:session', 'c6104cbe-af31-11e0-8154-cbc7ccf896c7', '2024-01-01T00:00:00Z'],
  },
  {
    name: 'ec2 CreateKeyPair (XML)',
    service: 'ec2',
    operation: 'CreateKeyPair',
    contentType: 'text/xml;charset=UTF-8',
    body:
      '<?xml version="1.0" encoding="UTF-8"?>\n<CreateKeyPairResponse xmlns="http://ec2.amazonaws.com/doc/2016-11-15/">\n' +
      '  <requestId>7a62c49f-347e-4fc4-9331-6e8eEXAMPLE</requestId>\n  <keyName>my-key-pair</keyName>\n' +
      '  <keyFingerprint>1f:51:ae:28:bf:89:e9:d8:1f:25:5d:37:2d:7d:b8:ca:9f:f5:f1:6f</keyFingerprint>\n' +
      `  <keyMaterial>${pem.replaceAll('\\n', '\n')}</keyMaterial>\n  <keyPairId>key-0123456789abcdef0</keyPairId>\n</CreateKeyPairResponse>`,
    secrets: ['MIIEowIBAAKCAQEAx0ln2JvYxq8LrQ3vQ2bJaBcD'],
    personal: [],
    lookalikes: ['1f:51:ae:28:bf:89:e9:d8:1f:25:5d:37:2d:7d:b8:ca:9f:f5:f1:6f', 'key-0123456789abcdef0', '7a62c49f-347e-4fc4-9331-6e8eEXAMPLE'],
  },
  {
    name: 'ec2 GetPasswordData (XML)',
    service: 'ec2',
    operation: 'GetPasswordData',
    contentType: 'text/xml;charset=UTF-8',
    body:
      '<GetPasswordDataResponse xmlns="http://ec2.amazonaws.com/doc/2016-11-15/"><requestId>59dbff89-35bd-4eac-99ed-be587EXAMPLE</requestId>' +
      `<instanceId>i-1234567890abcdef0</instanceId><timestamp>2024-01-01T00:00:00Z</timestamp><passwordData>${ec2Password}</passwordData></GetPasswordDataResponse>`,
    secrets: [ec2Password],
    personal: [],
    lookalikes: ['i-1234567890abcdef0', '59dbff89-35bd-4eac-99ed-be587EXAMPLE'],
  },
  {
    name: 'dynamodb GetItem',
    service: 'dynamodb',
    operation: 'GetItem',
    contentType: 'application/x-amz-json-1.0',
    body: json({
      Item: {
        pk: { S: 'user#42' },
        email: { S: 'jane.doe@example.org' },
        card: { S: '4111 1111 1111 1111' },
        phone: { S: '+44 20 7946 0958' },
        session: { S: jwt },
        gitlab: { S: gitlabToken },
        webhook: { S: 'https://hooks.slack.com/services/T00000000/B00000000/XXXXXXXXXXXXXXXXXXXXXXXX' },
        config: { S: `{"db_password": "${dbPassword}"}` },
        order: { N: '4111111111111112' },
        created: { S: '2024-05-01T12:34:56Z' },
        etag: { S: 'd41d8cd98f00b204e9800998ecf8427e' },
        next: { S: 'NextToken=' + 'QUFBQUFBQUFBQUFBQUFBQUFB' },
        tokenType: { S: 'Bearer' },
      },
    }),
    secrets: [jwt, gitlabToken, 'XXXXXXXXXXXXXXXXXXXXXXXX', dbPassword],
    personal: ['jane.doe@example.org', '4111 1111 1111 1111', '+44 20 7946 0958'],
    lookalikes: ['4111111111111112', '2024-05-01T12:34:56Z', 'd41d8cd98f00b204e9800998ecf8427e', 'QUFBQUFBQUFBQUFBQUFBQUFB', 'Bearer', 'user#42'],
  },
  {
    name: 'cloudwatch logs text with look-alikes',
    service: 's3',
    operation: 'GetObject',
    contentType: 'text/plain',
    body:
      'INFO connecting to https://db.internal:5432/orders (no credentials in url)\n' +
      'INFO user agent aws-sdk-js/3.0 AKIA-not-a-key AKIAIOSFODNN7EXAMPL\n' +
      `WARN leaked key AKIAIOSFODNN7EXAMPLE and secret=${apiKey}\n` +
      'INFO sha256=e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855 build 1.2.3\n' +
      'INFO password policy: minimum length 14\n',
    secrets: ['AKIAIOSFODNN7EXAMPLE', apiKey],
    personal: [],
    lookalikes: ['https://db.internal:5432/orders', 'AKIAIOSFODNN7EXAMPL', 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855', 'minimum length 14'],
  },
];
