import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { catalogue, catalogueIndex, catalogueService, servicesBySigningName } from './load.js';

describe('the AWS catalogue', () => {
  it('is what the generator makes of the models and rules (regenerate with `npm run generate:catalogue`)', () => {
    const generator = fileURLToPath(new URL('../generator/generate.mjs', import.meta.url));
    const run = spawnSync(process.execPath, [generator, '--check'], { encoding: 'utf8' });
    expect(run.stderr + run.stdout).toContain('up to date');
    expect(run.status).toBe(0);
  });

  it.each([
    ['s3', 'rest-xml', 's3'],
    ['s3control', 'rest-xml', 's3'],
    ['sts', 'query', 'sts'],
    ['iam', 'query', 'iam'],
    ['ec2', 'ec2', 'ec2'],
    ['lambda', 'rest-json', 'lambda'],
    ['dynamodb', 'json', 'dynamodb'],
    ['secretsmanager', 'json', 'secretsmanager'],
    ['ssm', 'json', 'ssm'],
    ['sqs', 'json', 'sqs'],
    ['sns', 'query', 'sns'],
    ['kms', 'json', 'kms'],
    ['logs', 'json', 'logs'],
    ['cloudformation', 'query', 'cloudformation'],
    ['route53', 'rest-xml', 'route53'],
    ['ecr', 'json', 'ecr'],
    ['ecs', 'json', 'ecs'],
    ['rds', 'query', 'rds'],
    ['kinesis', 'json', 'kinesis'],
    ['events', 'json', 'events'],
    ['monitoring', 'query', 'monitoring'],
  ] as const)('knows %s (%s, signed as %s)', (id, protocol, signingName) => {
    const service = catalogueService(id);
    expect(service).toMatchObject({ p: protocol, sig: signingName });
    expect(Object.keys(service?.ops ?? {}).length).toBeGreaterThan(5);
  });

  it('keeps what the models say about endpoints, targets and namespaces', () => {
    expect(catalogueService('iam')).toMatchObject({ g: { aws: ['iam.amazonaws.com', 'us-east-1'] }, ns: 'https://iam.amazonaws.com/doc/2010-05-08/' });
    expect(catalogueService('route53')?.g?.aws).toEqual(['route53.amazonaws.com', 'us-east-1']);
    expect(catalogueService('cloudfront')?.g?.aws).toEqual(['cloudfront.amazonaws.com', 'us-east-1']);
    expect(catalogueService('organizations')?.g?.aws).toEqual(['organizations.us-east-1.amazonaws.com', 'us-east-1']);
    expect(catalogueService('sts')?.g).toBeUndefined();
    expect(catalogueService('s3')?.g).toBeUndefined();
    expect(catalogueService('dynamodb')).toMatchObject({ tp: 'DynamoDB_20120810', jv: '1.0' });
    expect(catalogueService('ecr')?.ep).toBe('api.ecr');
    expect(catalogueService('monitoring')?.iam).toBe('cloudwatch');
    expect(catalogueService('s3control')?.ops.GetAccessPoint).toMatchObject({ h: 'GET /v20180820/accesspoint/{name}', hp: '{AccountId}.', r: 1 });
  });

  it('marks sensitive output members by path', () => {
    expect(catalogueService('secretsmanager')?.ops.GetSecretValue?.so).toEqual(['SecretBinary', 'SecretString']);
    expect(catalogueService('sts')?.ops.AssumeRole?.so).toEqual(['Credentials.SecretAccessKey']);
    expect(catalogueService('iam')?.ops.CreateAccessKey?.so).toEqual(['AccessKey.SecretAccessKey']);
    // Paths are into the body: header members are not in it, a structure payload is the body itself, and a blob payload
    // (an object, a function's result) is the caller's data, left to the detectors.
    expect(catalogueService('s3')?.ops.GetObject?.so).toBeUndefined();
    expect(catalogueService('lambda')?.ops.Invoke?.so).toBeUndefined();
    expect([catalogueService('lambda')?.ops.Invoke?.po, catalogueService('s3')?.ops.GetObject?.po]).toEqual([1, 1]);
    expect(catalogueService('lambda')?.ops.GetFunction?.po).toBeUndefined();
    expect(catalogueService('cloudfront')?.ops.GetDistribution?.so).toContain('DistributionConfig.Comment');
  });

  it('is internally consistent: bindings parse, template indexes exist, names are identifiers', () => {
    for (const [id, service] of Object.entries(catalogue().services)) {
      expect(service.sig, id).toMatch(/^[A-Za-z0-9.-]+$/);
      expect(service.ep, id).toMatch(/^[a-z0-9.-]+$/);
      for (const [name, op] of Object.entries(service.ops)) {
        expect(name).toMatch(/^[A-Za-z0-9]+$/);
        if (service.p === 'rest-json' || service.p === 'rest-xml') expect(op.h, `${id}.${name}`).toMatch(/^[A-Z]+ \/\S*$/);
        else expect(op.h).toBeUndefined();
        for (const index of op.t ?? []) expect(service.arn?.[index], `${id}.${name}`).toBeDefined();
      }
    }
  });

  it('lists the services of a signing name with the primary first', () => {
    expect(servicesBySigningName('s3')).toEqual(['s3', 's3control']);
    expect(servicesBySigningName('ses')[0]).toBe('email');
    expect(servicesBySigningName('no-such-service')).toEqual([]);
    expect(Object.keys(catalogueIndex()).length).toBeGreaterThan(350);
    expect(catalogueService('__proto__')).toBeUndefined();
  });
});
