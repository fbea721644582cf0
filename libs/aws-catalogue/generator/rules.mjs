// What the AWS service models do not say, and Airlock needs: kept small, each entry a known difference.
// The generator (generate.mjs) applies these while it reads the models; change a rule, run `npm run generate:catalogue`.

/**
 * IAM action prefixes that differ from the SigV4 signing name. Everything else uses the signing name, which is right for
 * nearly every service (the "Service Authorization Reference" lists the prefixes).
 */
export const iamPrefixBySigningName = {
  monitoring: 'cloudwatch',
  iotdata: 'iot',
  'iot-jobs-data': 'iot',
  awsssoportal: 'sso',
  'data.mediastore': 'mediastore',
  IoTSecuredTunneling: 'iot',
};

/**
 * IAM actions that are not `<prefix>:<Operation>`, from the Service Authorization Reference ("Actions, resources, and
 * condition keys for …"). Keyed by catalogue service id, then operation.
 */
export const actionOverrides = {
  s3: {
    ListBuckets: 's3:ListAllMyBuckets',
    ListObjects: 's3:ListBucket',
    ListObjectsV2: 's3:ListBucket',
    HeadBucket: 's3:ListBucket',
    HeadObject: 's3:GetObject',
    ListObjectVersions: 's3:ListBucketVersions',
    ListMultipartUploads: 's3:ListBucketMultipartUploads',
    ListParts: 's3:ListMultipartUploadParts',
    CopyObject: 's3:PutObject',
    UploadPart: 's3:PutObject',
    UploadPartCopy: 's3:PutObject',
    CreateMultipartUpload: 's3:PutObject',
    CompleteMultipartUpload: 's3:PutObject',
    DeleteObjects: 's3:DeleteObject',
    SelectObjectContent: 's3:GetObject',
    GetObjectAttributes: 's3:GetObjectAttributes',
    GetBucketCors: 's3:GetBucketCORS',
    PutBucketCors: 's3:PutBucketCORS',
    DeleteBucketCors: 's3:PutBucketCORS',
    GetBucketLifecycle: 's3:GetLifecycleConfiguration',
    GetBucketLifecycleConfiguration: 's3:GetLifecycleConfiguration',
    PutBucketLifecycle: 's3:PutLifecycleConfiguration',
    PutBucketLifecycleConfiguration: 's3:PutLifecycleConfiguration',
    DeleteBucketLifecycle: 's3:PutLifecycleConfiguration',
    GetBucketEncryption: 's3:GetEncryptionConfiguration',
    PutBucketEncryption: 's3:PutEncryptionConfiguration',
    DeleteBucketEncryption: 's3:PutEncryptionConfiguration',
    GetBucketReplication: 's3:GetReplicationConfiguration',
    PutBucketReplication: 's3:PutReplicationConfiguration',
    DeleteBucketReplication: 's3:PutReplicationConfiguration',
    DeleteBucketTagging: 's3:PutBucketTagging',
    GetBucketNotification: 's3:GetBucketNotification',
    GetBucketNotificationConfiguration: 's3:GetBucketNotification',
    PutBucketNotificationConfiguration: 's3:PutBucketNotification',
    GetBucketAccelerateConfiguration: 's3:GetAccelerateConfiguration',
    PutBucketAccelerateConfiguration: 's3:PutAccelerateConfiguration',
    GetBucketAnalyticsConfiguration: 's3:GetAnalyticsConfiguration',
    ListBucketAnalyticsConfigurations: 's3:GetAnalyticsConfiguration',
    PutBucketAnalyticsConfiguration: 's3:PutAnalyticsConfiguration',
    DeleteBucketAnalyticsConfiguration: 's3:PutAnalyticsConfiguration',
    GetBucketInventoryConfiguration: 's3:GetInventoryConfiguration',
    ListBucketInventoryConfigurations: 's3:GetInventoryConfiguration',
    PutBucketInventoryConfiguration: 's3:PutInventoryConfiguration',
    DeleteBucketInventoryConfiguration: 's3:PutInventoryConfiguration',
    GetBucketMetricsConfiguration: 's3:GetMetricsConfiguration',
    ListBucketMetricsConfigurations: 's3:GetMetricsConfiguration',
    PutBucketMetricsConfiguration: 's3:PutMetricsConfiguration',
    DeleteBucketMetricsConfiguration: 's3:PutMetricsConfiguration',
    GetBucketIntelligentTieringConfiguration: 's3:GetIntelligentTieringConfiguration',
    ListBucketIntelligentTieringConfigurations: 's3:GetIntelligentTieringConfiguration',
    PutBucketIntelligentTieringConfiguration: 's3:PutIntelligentTieringConfiguration',
    DeleteBucketIntelligentTieringConfiguration: 's3:PutIntelligentTieringConfiguration',
    DeleteBucketOwnershipControls: 's3:PutBucketOwnershipControls',
    GetPublicAccessBlock: 's3:GetBucketPublicAccessBlock',
    PutPublicAccessBlock: 's3:PutBucketPublicAccessBlock',
    DeletePublicAccessBlock: 's3:PutBucketPublicAccessBlock',
    GetObjectLockConfiguration: 's3:GetBucketObjectLockConfiguration',
    PutObjectLockConfiguration: 's3:PutBucketObjectLockConfiguration',
    WriteGetObjectResponse: 's3-object-lambda:WriteGetObjectResponse',
    CreateSession: 's3express:CreateSession',
    ListDirectoryBuckets: 's3express:ListAllMyDirectoryBuckets',
  },
  s3control: {
    GetPublicAccessBlock: 's3:GetAccountPublicAccessBlock',
    PutPublicAccessBlock: 's3:PutAccountPublicAccessBlock',
    DeletePublicAccessBlock: 's3:PutAccountPublicAccessBlock',
  },
  lambda: {
    Invoke: 'lambda:InvokeFunction',
    InvokeWithResponseStream: 'lambda:InvokeFunction',
    InvokeAsync: 'lambda:InvokeFunction',
  },
};

/** S3 names a different action when a request carries `versionId` (it then acts on one version). */
export const versionedActions = {
  s3: {
    GetObject: 's3:GetObjectVersion',
    HeadObject: 's3:GetObjectVersion',
    DeleteObject: 's3:DeleteObjectVersion',
    GetObjectAcl: 's3:GetObjectVersionAcl',
    PutObjectAcl: 's3:PutObjectVersionAcl',
    GetObjectTagging: 's3:GetObjectVersionTagging',
    PutObjectTagging: 's3:PutObjectVersionTagging',
    DeleteObjectTagging: 's3:DeleteObjectVersionTagging',
    GetObjectAttributes: 's3:GetObjectVersionAttributes',
  },
};

/** An operation reads (changes nothing) when its name starts with one of these verbs, followed by a capital or nothing. */
export const readVerbs = [
  'Get', 'List', 'Describe', 'Head', 'BatchGet', 'BatchDescribe', 'Query', 'Scan', 'Search', 'Lookup', 'Select', 'Download', 'View',
  'Preview', 'Estimate', 'Simulate', 'Validate', 'Check',
];

/**
 * How resource ARNs are built from input members, per service (catalogue id). A template names top-level input members
 * in braces; `{p}`, `{r}` and `{a}` are the partition, the region and the account of the role the call runs as.
 * `{Member?fallback}` uses the fallback when the member is absent (`@a` is the account). `{Member:filter}` transforms
 * the value (filters: classify's arn.ts). A template that is only `{Member}` yields the value when it is an ARN. A
 * template applies to an operation when all its members are in the operation's input and `ops` (a regex) matches.
 * A list member yields one ARN per element; a map member (filter `keys`) one per key.
 */
const passthrough = (...members) => members.map((member) => ({ t: `{${member}}` }));

export const genericResourceTemplates = passthrough('ResourceArn', 'ResourceARN', 'resourceArn', 'resourceARN', 'Arn', 'arn');

export const resourceTemplates = {
  s3: [
    { t: 'arn:{p}:s3:::{Bucket}' },
    { t: 'arn:{p}:s3:::{Bucket}/{Key}' },
    { t: 'arn:{p}:s3:::{CopySource:copySource}' },
  ],
  s3control: [
    { t: 'arn:{p}:s3:{r}:{AccountId?@a}:accesspoint/{Name}', ops: '^(?!.*ObjectLambda).*AccessPoint' },
    { t: 'arn:{p}:s3-object-lambda:{r}:{AccountId?@a}:accesspoint/{Name}', ops: 'ObjectLambda' },
    { t: 'arn:{p}:s3:{r}:{AccountId?@a}:job/{JobId}' },
    { t: 'arn:{p}:s3:{r}:{AccountId?@a}:storage-lens/{ConfigId}', ops: 'StorageLens' },
    ...passthrough('Bucket'),
  ],
  sts: passthrough('RoleArn', 'PrincipalArn'),
  iam: [
    { t: 'arn:{p}:iam::{a}:user/{UserName}' },
    { t: 'arn:{p}:iam::{a}:role/{RoleName}' },
    { t: 'arn:{p}:iam::{a}:group/{GroupName}' },
    { t: 'arn:{p}:iam::{a}:instance-profile/{InstanceProfileName}' },
    { t: 'arn:{p}:iam::{a}:policy/{PolicyName}', ops: '^CreatePolicy$' },
    ...passthrough('PolicyArn', 'OpenIDConnectProviderArn', 'SAMLProviderArn', 'PolicySourceArn'),
  ],
  ec2: [
    ...[
      ['instance', 'InstanceId'], ['instance', 'InstanceIds'], ['volume', 'VolumeId'], ['volume', 'VolumeIds'], ['vpc', 'VpcId'], ['vpc', 'VpcIds'],
      ['subnet', 'SubnetId'], ['subnet', 'SubnetIds'], ['security-group', 'GroupId'], ['security-group', 'GroupIds'],
      ['security-group', 'SecurityGroupIds'], ['snapshot', 'SnapshotId'], ['snapshot', 'SnapshotIds'], ['key-pair', 'KeyName'],
      ['network-interface', 'NetworkInterfaceId'], ['internet-gateway', 'InternetGatewayId'], ['route-table', 'RouteTableId'],
      ['launch-template', 'LaunchTemplateId'], ['elastic-ip', 'AllocationId'], ['natgateway', 'NatGatewayId'],
    ].map(([type, member]) => ({ t: `arn:{p}:ec2:{r}:{a}:${type}/{${member}}` })),
    { t: 'arn:{p}:ec2:{r}::image/{ImageId}' },
    { t: 'arn:{p}:ec2:{r}::image/{ImageIds}' },
  ],
  lambda: [
    { t: 'arn:{p}:lambda:{r}:{a}:function:{FunctionName}' },
    { t: 'arn:{p}:lambda:{r}:{a}:layer:{LayerName}' },
    { t: 'arn:{p}:lambda:{r}:{a}:event-source-mapping:{UUID}', ops: 'EventSourceMapping' },
  ],
  dynamodb: [
    { t: 'arn:{p}:dynamodb:{r}:{a}:table/{TableName}' },
    { t: 'arn:{p}:dynamodb:{r}:{a}:table/{TableName}/index/{IndexName}' },
    { t: 'arn:{p}:dynamodb:{r}:{a}:table/{RequestItems:keys}' },
    ...passthrough('TableArn', 'BackupArn', 'StreamArn'),
  ],
  secretsmanager: [
    { t: 'arn:{p}:secretsmanager:{r}:{a}:secret:{SecretId}' },
    { t: 'arn:{p}:secretsmanager:{r}:{a}:secret:{Name}', ops: '^CreateSecret$' },
  ],
  ssm: [
    { t: 'arn:{p}:ssm:{r}:{a}:parameter/{Name:noLeadingSlash}', ops: 'Parameter' },
    { t: 'arn:{p}:ssm:{r}:{a}:parameter/{Names:noLeadingSlash}', ops: 'Parameter' },
    { t: 'arn:{p}:ssm:{r}:{a}:parameter/{Path:noLeadingSlash}', ops: '^GetParametersByPath$' },
    { t: 'arn:{p}:ssm:{r}:{a}:document/{Name}', ops: 'Document' },
    { t: 'arn:{p}:ssm:{r}:{a}:document/{DocumentName}' },
    { t: 'arn:{p}:ec2:{r}:{a}:instance/{InstanceIds}' },
    { t: 'arn:{p}:ec2:{r}:{a}:instance/{InstanceId}' },
  ],
  sqs: [
    { t: 'arn:{p}:sqs:{r}:{QueueUrl:urlAccount}:{QueueUrl:lastSegment}' },
    { t: 'arn:{p}:sqs:{r}:{QueueOwnerAWSAccountId?@a}:{QueueName}' },
  ],
  sns: [
    ...passthrough('TopicArn', 'TargetArn', 'SubscriptionArn', 'PlatformApplicationArn', 'EndpointArn'),
    { t: 'arn:{p}:sns:{r}:{a}:{Name}', ops: '^CreateTopic$' },
  ],
  kms: [
    { t: 'arn:{p}:kms:{r}:{a}:{KeyId:kmsKey}' },
    { t: 'arn:{p}:kms:{r}:{a}:{TargetKeyId:kmsKey}' },
    { t: 'arn:{p}:kms:{r}:{a}:{SourceKeyId:kmsKey}' },
    { t: 'arn:{p}:kms:{r}:{a}:{DestinationKeyId:kmsKey}' },
    { t: 'arn:{p}:kms:{r}:{a}:{AliasName}' },
  ],
  logs: [
    { t: 'arn:{p}:logs:{r}:{a}:log-group:{logGroupName}' },
    { t: 'arn:{p}:logs:{r}:{a}:log-group:{logGroupName}:log-stream:{logStreamName}' },
    { t: 'arn:{p}:logs:{r}:{a}:log-group:{logGroupIdentifier}' },
    { t: 'arn:{p}:logs:{r}:{a}:log-group:{logGroupNames}' },
    { t: 'arn:{p}:logs:{r}:{a}:log-group:{logGroupIdentifiers}' },
  ],
  cloudformation: [
    { t: 'arn:{p}:cloudformation:{r}:{a}:stack/{StackName}/*' },
    { t: 'arn:{p}:cloudformation:{r}:{a}:stackset/{StackSetName}:*' },
    ...passthrough('StackId'),
  ],
  route53: [
    { t: 'arn:{p}:route53:::hostedzone/{HostedZoneId:lastSegment}' },
    { t: 'arn:{p}:route53:::hostedzone/{Id:lastSegment}', ops: 'HostedZone(?!s)|^ChangeTagsForResource$' },
    { t: 'arn:{p}:route53:::healthcheck/{HealthCheckId}' },
    { t: 'arn:{p}:route53:::change/{Id:lastSegment}', ops: '^GetChange$' },
  ],
  ecr: [
    { t: 'arn:{p}:ecr:{r}:{registryId?@a}:repository/{repositoryName}' },
    // DescribeRepositories names its repositories in a list.
    { t: 'arn:{p}:ecr:{r}:{registryId?@a}:repository/{repositoryNames}' },
  ],
  ecs: [
    { t: 'arn:{p}:ecs:{r}:{a}:cluster/{cluster}' },
    { t: 'arn:{p}:ecs:{r}:{a}:cluster/{clusters}' },
    { t: 'arn:{p}:ecs:{r}:{a}:cluster/{clusterName}' },
    { t: 'arn:{p}:ecs:{r}:{a}:service/{cluster?default}/{service}' },
    { t: 'arn:{p}:ecs:{r}:{a}:service/{cluster?default}/{services}' },
    { t: 'arn:{p}:ecs:{r}:{a}:service/{cluster?default}/{serviceName}' },
    { t: 'arn:{p}:ecs:{r}:{a}:task/{cluster?default}/{task}' },
    { t: 'arn:{p}:ecs:{r}:{a}:task/{cluster?default}/{tasks}' },
    { t: 'arn:{p}:ecs:{r}:{a}:task-definition/{taskDefinition}' },
  ],
  rds: [
    { t: 'arn:{p}:rds:{r}:{a}:db:{DBInstanceIdentifier}' },
    { t: 'arn:{p}:rds:{r}:{a}:cluster:{DBClusterIdentifier}' },
    { t: 'arn:{p}:rds:{r}:{a}:snapshot:{DBSnapshotIdentifier}' },
    { t: 'arn:{p}:rds:{r}:{a}:cluster-snapshot:{DBClusterSnapshotIdentifier}' },
    { t: 'arn:{p}:rds:{r}:{a}:subgrp:{DBSubnetGroupName}' },
    { t: 'arn:{p}:rds:{r}:{a}:pg:{DBParameterGroupName}' },
    ...passthrough('ResourceName'),
  ],
  kinesis: [{ t: 'arn:{p}:kinesis:{r}:{a}:stream/{StreamName}' }, ...passthrough('StreamARN', 'ConsumerARN')],
  events: [
    { t: 'arn:{p}:events:{r}:{a}:event-bus/{EventBusName}' },
    { t: 'arn:{p}:events:{r}:{a}:event-bus/{Name}', ops: 'EventBus$' },
    { t: 'arn:{p}:events:{r}:{a}:rule/{Name}', ops: 'Rule$' },
    { t: 'arn:{p}:events:{r}:{a}:rule/{EventBusName}/{Name}', ops: 'Rule$' },
    { t: 'arn:{p}:events:{r}:{a}:rule/{Rule}' },
    { t: 'arn:{p}:events:{r}:{a}:rule/{EventBusName}/{Rule}' },
  ],
};

/**
 * Global endpoints the SDK's region table does not name (services served from one region of each partition).
 * [host, signing region] per partition.
 */
export const extraGlobalEndpoints = {
  organizations: {
    aws: ['organizations.us-east-1.amazonaws.com', 'us-east-1'],
    'aws-cn': ['organizations.cn-northwest-1.amazonaws.com.cn', 'cn-northwest-1'],
    'aws-us-gov': ['organizations.us-gov-west-1.amazonaws.com', 'us-gov-west-1'],
  },
};

/**
 * Endpoint prefixes the SDK's region table calls global but that Airlock keeps regional: STS answers in every region
 * (the SDKs' own default since 2022), and its global endpoint is signed for us-east-1 like sts.us-east-1.
 */
export const keepRegional = new Set(['sts']);

/** Primary service of a signing name shared by several models (used when a request cannot tell them apart). */
export const primaryBySigningName = {
  s3: 's3',
  ses: 'email',
  rds: 'rds',
  dynamodb: 'dynamodb',
  events: 'events',
  elasticloadbalancing: 'elasticloadbalancingv2',
  apigateway: 'apigateway',
  sagemaker: 'sagemaker',
};
