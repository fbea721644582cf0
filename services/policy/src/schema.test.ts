import { isAuthorized, checkParseSchema, validate } from '@cedar-policy/cedar-wasm/nodejs';
import { describe, expect, it } from 'vitest';
import type { AwsCall, Principal } from '@airlock/contracts';
import { buildRequest, resourcesOf } from './entities.js';
import { knownServicePrefixes, serviceActions } from './access-levels.js';
import { namedActions, policySchema, renderSchema, validationSchema } from './schema.js';
import { policyToJson } from './cedar.js';

const principal: Principal = { subject: 'sam', issuer: 'https://idp.example.com', groups: ['engineers', 'senior-engineers'], sessionId: 's1', name: 'Sam' };
const now = new Date('2026-11-26T10:00:00Z');

function call(action: string, resources: string[], parameters: Record<string, string> = {}): AwsCall {
  const [service = '', operation = ''] = action.split(':');
  return { service, operation, action, resources, region: 'eu-west-1', roleArn: 'arn:aws:iam::123456789012:role/agent', parameters };
}

/** Policies that exercise every part of the schema; each must validate (or not) the same against both schemas. */
const policies: Record<string, string> = {
  everything: 'permit (principal, action, resource);',
  level: 'permit (principal, action in [Airlock::Action::"read", Airlock::Action::"list"], resource is Airlock::Resource);',
  serviceLevel: 'permit (principal, action in Airlock::Action::"iam:write", resource) when { resource.account == "123456789012" };',
  destroy: '@approval("ops") permit (principal in Airlock::Group::"ops", action in Airlock::Action::"destroy", resource);',
  exact: 'permit (principal, action == Airlock::Action::"ec2:TerminateInstances", resource) when { resource.type == "instance" && context.region == "eu-west-1" };',
  context:
    'permit (principal, action, resource) when { context.dryRun && context has sourceIp && context.sourceIp.isInRange(ip("10.0.0.0/8")) && context.time < datetime("2030-01-01") };',
  sessionAge: 'forbid (principal, action, resource) when { context has sessionAgeSeconds && context.sessionAgeSeconds > 3600 };',
  parameters: 'permit (principal, action, resource) when { context.parameters.hasTag("Bucket") && context.parameters.getTag("Bucket") like "logs-*" };',
  tags: 'forbid (principal, action, resource) when { resource.hasTag("env") && resource.getTag("env") == "prod" };',
  principalAttributes: 'permit (principal, action, resource) when { principal.kind == "workloads" && principal.issuer like "https://*" && principal.name != "" };',
  role: 'permit (principal, action == Airlock::Action::"sts:AssumeRoleWithWebIdentity", resource is Airlock::Role) when { resource.account == "123456789012" };',
  credentials: 'forbid (principal, action in Airlock::Action::"credentials", resource);',
  // Invalid, for both schemas:
  unknownAction: 'permit (principal, action == Airlock::Action::"s3:GetObjects", resource);',
  unknownServiceGroup: 'permit (principal, action in Airlock::Action::"nope:*", resource);',
  stringIp: 'permit (principal, action, resource) when { context.sourceIp like "10.*" };',
  undeclaredParameter: 'permit (principal, action, resource) when { context.parameters.Bucket == "logs" };',
  unguardedTag: 'permit (principal, action, resource) when { resource.getTag("env") == "dev" };',
  unknownAttribute: 'permit (principal, action, resource) when { principal.email == "a@b" };',
};
const invalid = ['unknownAction', 'unknownServiceGroup', 'stringIp', 'undeclaredParameter', 'unguardedTag', 'unknownAttribute'];

function findings(schema: string, texts: Record<string, string>): string[] {
  const answer = validate({ schema, policies: { staticPolicies: texts }, validationSettings: { mode: 'strict' } });
  if (answer.type === 'failure') throw new Error(answer.errors.map((error) => error.message).join('; '));
  return [...new Set(answer.validationErrors.map((finding) => finding.policyId))].sort();
}

function named(texts: Record<string, string>): Set<string> {
  const actions = new Set<string>();
  for (const text of Object.values(texts)) {
    const json = policyToJson(text);
    if (json.type === 'success') namedActions(json.json, actions);
  }
  return actions;
}

describe('the Cedar schema', () => {
  it('is a schema Cedar reads, with every catalogue action in it', () => {
    const schema = policySchema();
    expect(checkParseSchema(schema)).toEqual({ type: 'success' });
    expect(schema).toContain('"s3:GetObject"');
    expect(schema).toContain('action "s3:read" in ["s3:*", "read"];');
  }, 180_000);

  it('validates a policy set the same way in its reduced form as with every action of the services involved', () => {
    const actions = named(policies);
    const reduced = findings(validationSchema(actions), policies);
    expect(reduced).toEqual([...invalid].sort());
    // Every action of each service a policy names, and of S3 and STS (where the level groups' members come from):
    // the reduced schema's verdicts must not depend on which members it picked. (The whole catalogue is the same
    // again for every other service; reading it takes Cedar tens of seconds, so the parse test above covers it.)
    const services = new Set(['s3', 'sts', ...[...actions].map((action) => action.slice(0, action.indexOf(':')))].filter((service) => knownServicePrefixes().has(service)));
    const wider = new Map([...services].flatMap((service) => [...serviceActions(service)]));
    expect(findings(renderSchema(wider, services), policies)).toEqual(reduced);
  }, 60_000);

  it.each([
    ['an S3 read with a parameter', call('s3:GetObject', ['arn:aws:s3:::logs/a.txt'], { Bucket: 'logs', Key: 'a.txt' }), { sourceIp: '10.1.2.3' }],
    ['a call that names no resource', call('s3:ListAllMyBuckets', []), { sourceIp: '2001:db8::1', sessionAgeSeconds: '42' }],
    ['an IPv4-mapped address and an EC2 DryRun', call('ec2:TerminateInstances', ['arn:aws:ec2:eu-west-1:123456789012:instance/i-1'], { DryRun: 'true' }), { sourceIp: '::ffff:10.0.0.1' }],
    ['several resources', call('s3:DeleteObject', ['arn:aws:s3:::logs/a', 'arn:aws:s3:::logs/b']), { time: '2026-11-26T09:59:00Z', principalKind: 'people' }],
    ['a credential-minting call', call('sts:GetSessionToken', []), {}],
    ['the role check', call('sts:AssumeRoleWithWebIdentity', ['arn:aws:iam::123456789012:role/agent']), { operationKnown: 'true' }],
    ['odd context: bad address, bad age, unknown keys, entity-looking parameters', call('s3:GetObject', ['arn:aws:s3:::x/y'], { __entity: 'x', Key: 'y' }), { sourceIp: 'not-an-ip', sessionAgeSeconds: '-1', colour: 'red' }],
  ])('describes what entities.ts builds: %s', (_name, aws, requestContext) => {
    const action = aws.action;
    const schema = validationSchema([action]);
    for (const resource of resourcesOf(aws, action)) {
      const request = buildRequest(principal, aws, action, resource, requestContext, now);
      const answer = isAuthorized({ ...request, schema, validateRequest: true, policies: { staticPolicies: { all: 'permit (principal, action, resource);' } } });
      expect(answer).toMatchObject({ type: 'success', response: { decision: 'allow' } });
    }
  });
});
