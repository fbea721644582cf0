/**
 * What Airlock knows about each AWS service it forwards to. This hand-kept table covers the services the spine is
 * tested with; the catalogue generated from the AWS service models replaces it (see issue 4).
 */
export type Protocol = 'query' | 'ec2' | 'json' | 'rest-json' | 'rest-xml';

export interface ServiceInfo {
  /** SigV4 signing name, as it appears in the credential scope. */
  readonly signingName: string;
  /** IAM action prefix, when it differs from the signing name. */
  readonly iamPrefix: string;
  readonly protocol: Protocol;
  /** First label of the service's host name. */
  readonly endpointPrefix: string;
  /** Global services have one endpoint, signed for us-east-1 in the aws partition. */
  readonly global?: boolean;
  /** Namespace of query-protocol XML answers. */
  readonly xmlNamespace?: string;
}

function service(signingName: string, protocol: Protocol, extra: Partial<ServiceInfo> = {}): ServiceInfo {
  return { signingName, iamPrefix: signingName, protocol, endpointPrefix: signingName, ...extra };
}

const table: readonly ServiceInfo[] = [
  service('s3', 'rest-xml'),
  service('sts', 'query', { xmlNamespace: 'https://sts.amazonaws.com/doc/2011-06-15/' }),
  service('iam', 'query', { global: true, xmlNamespace: 'https://iam.amazonaws.com/doc/2010-05-08/' }),
  service('ec2', 'ec2'),
  service('sns', 'query', { xmlNamespace: 'http://sns.amazonaws.com/doc/2010-03-31/' }),
  service('cloudformation', 'query', { xmlNamespace: 'http://cloudformation.amazonaws.com/doc/2010-05-15/' }),
  service('rds', 'query', { xmlNamespace: 'http://rds.amazonaws.com/doc/2014-10-31/' }),
  service('monitoring', 'query', { iamPrefix: 'cloudwatch', xmlNamespace: 'http://monitoring.amazonaws.com/doc/2010-08-01/' }),
  service('sqs', 'json'),
  service('dynamodb', 'json'),
  service('kms', 'json'),
  service('secretsmanager', 'json'),
  service('ssm', 'json'),
  service('logs', 'json'),
  service('ecr', 'json', { endpointPrefix: 'api.ecr' }),
  service('ecs', 'json'),
  service('organizations', 'json', { global: true }),
  service('lambda', 'rest-json'),
];

const bySigningName = new Map(table.map((info) => [info.signingName, info]));

export function serviceInfo(signingName: string): ServiceInfo | undefined {
  return bySigningName.get(signingName);
}
