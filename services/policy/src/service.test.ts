import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  Decision,
  PolicyServiceService,
  RecordingLevel,
  type AwsCall,
  type DecideRequest,
  type Principal,
} from '@airlock/contracts';
import { AirlockError } from '@airlock/errors';
import { createLogger } from '@airlock/logging';
import { bindInProcess } from '@airlock/transport';
import { createPolicyService } from './service.js';

const logger = createLogger({ service: 'policy-test', level: 'silent' });
let dir: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'airlock-policy-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

let fileCounter = 0;
async function policyClient(...texts: string[]) {
  const files: string[] = [];
  for (const text of texts) {
    const name = `p${fileCounter++}.cedar`;
    await writeFile(join(dir, name), text);
    files.push(name);
  }
  const service = await createPolicyService({ files, baseDir: dir, logger });
  return bindInProcess(service.definition, service.implementation);
}

function principal(overrides: Partial<Principal> = {}): Principal {
  return { subject: 'alice', issuer: 'https://idp.example', groups: [], sessionId: 's1', name: 'Alice', ...overrides };
}

function call(overrides: Partial<AwsCall> = {}): AwsCall {
  return {
    service: 's3',
    operation: 'GetObject',
    action: 's3:GetObject',
    resources: ['arn:aws:s3:::reports/q1.csv'],
    region: 'eu-west-1',
    roleArn: 'arn:aws:iam::123456789012:role/agent',
    parameters: {},
    ...overrides,
  };
}

function request(overrides: { principal?: Partial<Principal>; call?: Partial<AwsCall>; context?: Record<string, string> } = {}): DecideRequest {
  return { principal: principal(overrides.principal), call: call(overrides.call), context: overrides.context ?? {} };
}

// The first policy set a test worker loads waits for Cedar's validator to warm up: about a second, more on a busy machine.
describe('policy service', { timeout: 30_000 }, () => {
  it('allows what a policy permits, with default obligations: the service-wide credential scope', async () => {
    const client = await policyClient('@id("read-reports")\npermit (principal, action == Airlock::Action::"s3:GetObject", resource);');
    const response = await client.decide(request());
    expect(response.decision).toBe(Decision.DECISION_ALLOW);
    expect(response.policyIds).toEqual(['read-reports']);
    expect(response.obligations).toEqual({
      maskingProfile: 'default',
      recording: RecordingLevel.RECORDING_LEVEL_METADATA,
      sessionPolicy: '{"Version":"2012-10-17","Statement":[{"Sid":"Airlock","Effect":"Allow","Action":["s3:*"],"Resource":["*"]}]}',
      maxCredentialSeconds: 0,
    });
    expect(response.policyVersion).toMatch(/^sha256:[0-9a-f]{16}$/);
    expect(response.dependsOnTime).toBe(false);
  });

  it('denies what nothing permits, saying what and for whom', async () => {
    const client = await policyClient('permit (principal, action == Airlock::Action::"s3:GetObject", resource);');
    const response = await client.decide(request({ call: { action: 's3:DeleteBucket', resources: ['arn:aws:s3:::reports'] } }));
    expect(response.decision).toBe(Decision.DECISION_DENY);
    expect(response.reason).toBe('No Airlock policy permits s3:DeleteBucket on arn:aws:s3:::reports for alice');
    expect(response.policyIds).toEqual([]);
  });

  it('lets a forbid win over a permit and reports its @reason and @id', async () => {
    const client = await policyClient(`
      permit (principal, action, resource);
      @id("no-secrets") @reason("Secrets buckets are off limits to agents")
      forbid (principal, action, resource) when { resource.arn like "arn:aws:s3:::secrets*" };
    `);
    const allowed = await client.decide(request());
    expect(allowed.decision).toBe(Decision.DECISION_ALLOW);
    const denied = await client.decide(request({ call: { resources: ['arn:aws:s3:::secrets/key.pem'] } }));
    expect(denied.decision).toBe(Decision.DECISION_DENY);
    expect(denied.reason).toBe('Secrets buckets are off limits to agents');
    expect(denied.policyIds).toEqual(['no-secrets']);
  });

  it('names the forbidding policy when it has no @reason, using the file and Cedar id without @id', async () => {
    const client = await policyClient('permit (principal, action, resource);\nforbid (principal, action == Airlock::Action::"s3:GetObject", resource);');
    const denied = await client.decide(request());
    expect(denied.decision).toBe(Decision.DECISION_DENY);
    expect(denied.policyIds).toEqual([expect.stringMatching(/^p\d+\.cedar:policy1$/)]);
    expect(denied.reason).toMatch(/^Airlock policy p\d+\.cedar:policy1 forbids s3:GetObject on arn:aws:s3:::reports\/q1\.csv for alice$/);
  });

  it('keeps Cedar source-order ids beyond ten policies in a file', async () => {
    const actions = ['GetObject', 'PutObject', 'DeleteObject', 'ListBucket', 'CreateBucket', 'DeleteBucket', 'GetBucketTagging', 'PutBucketTagging', 'GetBucketPolicy', 'PutBucketPolicy', 'GetObjectAcl', 'PutObjectAcl'];
    const texts = actions.map((action) => `permit (principal, action == Airlock::Action::"s3:${action}", resource);`);
    const client = await policyClient(texts.join('\n'));
    const response = await client.decide(request({ call: { action: 's3:GetObjectAcl' } }));
    expect(response.policyIds).toEqual([expect.stringMatching(/:policy10$/)]);
  });

  it('honours group membership from the token', async () => {
    const client = await policyClient('@id("data-team") permit (principal in Airlock::Group::"data", action, resource);');
    expect((await client.decide(request({ principal: { groups: ['data'] } }))).decision).toBe(Decision.DECISION_ALLOW);
    expect((await client.decide(request({ principal: { groups: ['web'] } }))).decision).toBe(Decision.DECISION_DENY);
  });

  it('places each action under its service wildcard, so `action in s3:*` covers every s3 action', async () => {
    const client = await policyClient('permit (principal, action in Airlock::Action::"s3:*", resource);');
    expect((await client.decide(request({ call: { action: 's3:PutObject' } }))).decision).toBe(Decision.DECISION_ALLOW);
    const ec2 = await client.decide(
      request({ call: { service: 'ec2', action: 'ec2:TerminateInstances', resources: ['arn:aws:ec2:eu-west-1:123456789012:instance/i-1'] } }),
    );
    expect(ec2.decision).toBe(Decision.DECISION_DENY);
  });

  it('derives the action from service and operation when the call has no action', async () => {
    const client = await policyClient('permit (principal, action == Airlock::Action::"s3:ListAllMyBuckets", resource);');
    const response = await client.decide(request({ call: { action: '', operation: 'ListAllMyBuckets', resources: [] } }));
    expect(response.decision).toBe(Decision.DECISION_ALLOW);
  });

  it('exposes resource attributes and context to conditions', async () => {
    const client = await policyClient(`
      permit (principal, action, resource)
      when {
        resource.account == "123456789012" && resource.region == "eu-west-1" && resource.type == "instance" && context.region == "eu-west-1" &&
        context.parameters.hasTag("Bucket") && context.parameters.getTag("Bucket") == "logs"
      };
    `);
    const arn = 'arn:aws:ec2:eu-west-1:123456789012:instance/i-1';
    expect((await client.decide(request({ call: { resources: [arn], parameters: { Bucket: 'logs' } } }))).decision).toBe(
      Decision.DECISION_ALLOW,
    );
    expect((await client.decide(request({ call: { resources: [arn], region: 'us-east-1' } }))).decision).toBe(Decision.DECISION_DENY);
  });

  it('does not let the request context overwrite the role or region being decided', async () => {
    const client = await policyClient('permit (principal, action, resource) when { context.role == "arn:aws:iam::1:role/admin" };');
    const response = await client.decide(request({ context: { role: 'arn:aws:iam::1:role/admin' } }));
    expect(response.decision).toBe(Decision.DECISION_DENY);
  });

  it('uses the "*" resource when the call names none', async () => {
    const client = await policyClient('permit (principal, action, resource == Airlock::Resource::"*");');
    const response = await client.decide(request({ call: { action: 's3:ListAllMyBuckets', resources: [] } }));
    expect(response.decision).toBe(Decision.DECISION_ALLOW);
    const denied = await (await policyClient('forbid (principal, action, resource);')).decide(
      request({ call: { action: 's3:ListAllMyBuckets', resources: [] } }),
    );
    expect(denied.reason).toMatch(/forbids s3:ListAllMyBuckets for alice$/);
  });

  it('decides every resource and denies the call when one is forbidden', async () => {
    const client = await policyClient(`
      permit (principal, action, resource);
      @id("protect-prod") @reason("prod is read-only for agents")
      forbid (principal, action == Airlock::Action::"s3:DeleteObject", resource) when { resource.arn like "*:::prod/*" };
    `);
    const response = await client.decide(
      request({ call: { action: 's3:DeleteObject', resources: ['arn:aws:s3:::dev/a', 'arn:aws:s3:::prod/b', 'arn:aws:s3:::dev/c'] } }),
    );
    expect(response.decision).toBe(Decision.DECISION_DENY);
    expect(response.reason).toBe('prod is read-only for agents');
    expect(response.policyIds).toEqual(['protect-prod']);
  });

  it('denies the call when one of several resources is not permitted', async () => {
    const client = await policyClient('permit (principal, action, resource) when { resource.arn like "arn:aws:s3:::dev/*" };');
    const response = await client.decide(request({ call: { resources: ['arn:aws:s3:::dev/a', 'arn:aws:s3:::prod/b'] } }));
    expect(response.decision).toBe(Decision.DECISION_DENY);
    expect(response.reason).toBe('No Airlock policy permits s3:GetObject on arn:aws:s3:::prod/b for alice');
  });

  it('requires approval when only @approval permits apply, with groups, quorum and windows', async () => {
    const client = await policyClient(`
      @id("terminate-needs-ops") @approval("ops, sre") @quorum("2") @pending_ttl("300") @recording("full")
      permit (principal, action == Airlock::Action::"ec2:TerminateInstances", resource);
    `);
    const response = await client.decide(
      request({ call: { service: 'ec2', action: 'ec2:TerminateInstances', resources: ['arn:aws:ec2:eu-west-1:123456789012:instance/i-1'] } }),
    );
    expect(response.decision).toBe(Decision.DECISION_APPROVAL_REQUIRED);
    expect(response.policyIds).toEqual(['terminate-needs-ops']);
    expect(response.approval).toEqual({ approverGroups: ['ops', 'sre'], quorum: 2, pendingTtlSeconds: 300, grantWindowSeconds: 600 });
    expect(response.reason).toBe(
      'ec2:TerminateInstances on arn:aws:ec2:eu-west-1:123456789012:instance/i-1 needs approval from 2 approvers in ops or sre (policy terminate-needs-ops)',
    );
    expect(response.obligations?.recording).toBe(RecordingLevel.RECORDING_LEVEL_FULL);
  });

  it('applies approval defaults: quorum 1, 15 minutes pending, 10 minutes grant', async () => {
    const client = await policyClient('@approval("ops") permit (principal, action, resource);');
    const response = await client.decide(request());
    expect(response.approval).toEqual({ approverGroups: ['ops'], quorum: 1, pendingTtlSeconds: 900, grantWindowSeconds: 600 });
  });

  it('keeps an approval gate even when a broader plain permit also applies, and a forbid still beats an approval permit', async () => {
    const client = await policyClient(`
      @id("ops-gate") @approval("ops") permit (principal, action == Airlock::Action::"s3:GetObject", resource);
      @id("devs-read") permit (principal in Airlock::Group::"dev", action, resource);
      @id("never-delete") forbid (principal, action == Airlock::Action::"s3:DeleteBucket", resource);
    `);
    const gated = await client.decide(request({ principal: { groups: ['dev'] } }));
    expect(gated.decision).toBe(Decision.DECISION_APPROVAL_REQUIRED);
    expect(gated.policyIds).toEqual(['ops-gate']);
    const ungated = await client.decide(request({ principal: { groups: ['dev'] }, call: { action: 's3:PutObject' } }));
    expect(ungated.decision).toBe(Decision.DECISION_ALLOW);
    expect(ungated.policyIds).toEqual(['devs-read']);
    expect((await client.decide(request({ call: { action: 's3:DeleteBucket' } }))).decision).toBe(Decision.DECISION_DENY);
  });

  it('asks for the most specific of several approval permits that gate one resource', async () => {
    const client = await policyClient(`
      @id("a-pack-gate") @approval("approvers") permit (principal, action in Airlock::Action::"destroy", resource);
      @id("terminate-gate") @approval("managers") permit (principal in Airlock::Group::"senior", action == Airlock::Action::"ec2:TerminateInstances", resource);
    `);
    const terminate = { service: 'ec2', action: 'ec2:TerminateInstances', resources: ['arn:aws:ec2:eu-west-1:123456789012:instance/i-1'] };
    expect((await client.decide(request({ principal: { groups: ['senior'] }, call: terminate }))).approval?.approverGroups).toEqual(['managers']);
    expect((await client.decide(request({ principal: { groups: ['junior'] }, call: terminate }))).approval?.approverGroups).toEqual(['approvers']);
  });

  it.each([
    ['an approval: exactly the action on exactly the resources, for no longer than the grant', '@approval("ops") @grant_window("300")', 'ec2:DeleteVolume', ['arn:aws:ec2:eu-west-1:123456789012:volume/vol-1'], '{"Version":"2012-10-17","Statement":[{"Sid":"Airlock","Effect":"Allow","Action":["ec2:DeleteVolume"],"Resource":["arn:aws:ec2:eu-west-1:123456789012:volume/vol-1"]}]}', 300],
    ['an approval of a call that names no resource', '@approval("ops")', 'ec2:DeleteVolume', [], '{"Version":"2012-10-17","Statement":[{"Sid":"Airlock","Effect":"Allow","Action":["ec2:DeleteVolume"],"Resource":["*"]}]}', 600],
    ['@scope("action") on a plain permit', '@scope("action")', 's3:GetObject', ['arn:aws:s3:::b/k'], '{"Version":"2012-10-17","Statement":[{"Sid":"Airlock","Effect":"Allow","Action":["s3:GetObject"],"Resource":["arn:aws:s3:::b/k"]}]}', 0],
    ['no @scope: the default, service-wide', '', 's3:GetObject', ['arn:aws:s3:::b/k'], '{"Version":"2012-10-17","Statement":[{"Sid":"Airlock","Effect":"Allow","Action":["s3:*"],"Resource":["*"]}]}', 0],
    ['@scope("role") and @credential_seconds', '@scope("role") @credential_seconds("1200")', 's3:GetObject', ['arn:aws:s3:::b/k'], '', 1200],
  ])('fills the credential obligations for %s', async (_name, annotations, action, resources, sessionPolicy, maxCredentialSeconds) => {
    const client = await policyClient(`${annotations} permit (principal, action, resource);`);
    const response = await client.decide(request({ call: { service: action.split(':')[0], action, resources } }));
    expect(response.obligations).toMatchObject({ sessionPolicy, maxCredentialSeconds });
  });

  it('takes the narrowest scope and the shortest lifetime of the deciding permits', async () => {
    const client = await policyClient(`
      @scope("role") @credential_seconds("3600") permit (principal, action, resource);
      @scope("action") @credential_seconds("900") permit (principal in Airlock::Group::"careful", action, resource);
    `);
    const response = await client.decide(request({ principal: { groups: ['careful'] } }));
    expect(response.obligations).toMatchObject({
      sessionPolicy: '{"Version":"2012-10-17","Statement":[{"Sid":"Airlock","Effect":"Allow","Action":["s3:GetObject"],"Resource":["arn:aws:s3:::reports/q1.csv"]}]}',
      maxCredentialSeconds: 900,
    });
  });

  it('says when a decision depends on time, so that it is never reused', async () => {
    const timeless = await policyClient('permit (principal, action, resource);');
    expect((await timeless.decide(request())).dependsOnTime).toBe(false);
    const office = await policyClient('permit (principal, action, resource) when { context.time < datetime("2100-01-01") };');
    expect((await office.decide(request())).dependsOnTime).toBe(true);
    const young = await policyClient('forbid (principal, action, resource) when { context has sessionAgeSeconds && context.sessionAgeSeconds > 60 };\npermit (principal, action, resource);');
    expect((await young.decide(request())).dependsOnTime).toBe(true);
  });

  it('reads time, source address and session age from the request context', async () => {
    const client = await policyClient(`
      permit (principal, action, resource) when {
        context.time >= datetime("2026-11-26T09:00:00Z") && context has sourceIp && context.sourceIp.isInRange(ip("10.0.0.0/8")) &&
        context has sessionAgeSeconds && context.sessionAgeSeconds < 3600 && principal.kind == "workloads"
      };
    `);
    const context = { time: '2026-11-26T10:00:00Z', sourceIp: '::ffff:10.1.2.3', sessionAgeSeconds: '120', principalKind: 'workloads' };
    expect((await client.decide(request({ context }))).decision).toBe(Decision.DECISION_ALLOW);
    for (const changed of [{ time: '2026-11-26T08:00:00Z' }, { sourceIp: '192.0.2.1' }, { sessionAgeSeconds: '7200' }, { principalKind: 'people' }, { sourceIp: 'garbage' }]) {
      expect((await client.decide(request({ context: { ...context, ...changed } }))).decision).toBe(Decision.DECISION_DENY);
    }
  });

  it('rejects @scope values it does not know, and scoping annotations on a forbid', async () => {
    await expect(policyClient('@scope("bucket") permit (principal, action, resource);')).rejects.toThrow(/@scope\("bucket"\) must be one of: action, service, role/);
    await expect(policyClient('@scope("role") forbid (principal, action, resource);')).rejects.toThrow(/apply to permit policies only/);
  });

  it('merges approval requirements across resources and denies when they share no approver group', async () => {
    const client = await policyClient(`
      @id("a") @approval("ops,sre") @quorum("1") permit (principal, action, resource) when { resource.arn like "*:::a/*" };
      @id("b") @approval("sre,sec") @quorum("2") @grant_window("60") permit (principal, action, resource) when { resource.arn like "*:::b/*" };
      @id("c") @approval("legal") permit (principal, action, resource) when { resource.arn like "*:::c/*" };
    `);
    const merged = await client.decide(request({ call: { resources: ['arn:aws:s3:::a/1', 'arn:aws:s3:::b/1'] } }));
    expect(merged.decision).toBe(Decision.DECISION_APPROVAL_REQUIRED);
    expect(merged.policyIds).toEqual(['a', 'b']);
    expect(merged.approval).toEqual({ approverGroups: ['sre'], quorum: 2, pendingTtlSeconds: 900, grantWindowSeconds: 60 });
    const disjoint = await client.decide(request({ call: { resources: ['arn:aws:s3:::a/1', 'arn:aws:s3:::c/1'] } }));
    expect(disjoint.decision).toBe(Decision.DECISION_DENY);
    expect(disjoint.reason).toContain('share no approver group');
  });

  it('checks role use as sts:AssumeRoleWithWebIdentity on an Airlock::Role', async () => {
    const client = await policyClient(`
      permit (principal in Airlock::Group::"agents", action == Airlock::Action::"sts:AssumeRoleWithWebIdentity",
              resource == Airlock::Role::"arn:aws:iam::123456789012:role/agent");
    `);
    const ask = (groups: string[], roleArn: string) =>
      client.decide(
        request({ principal: { groups }, call: { service: 'sts', operation: 'AssumeRoleWithWebIdentity', action: 'sts:AssumeRoleWithWebIdentity', resources: [], roleArn } }),
      );
    expect((await ask(['agents'], 'arn:aws:iam::123456789012:role/agent')).decision).toBe(Decision.DECISION_ALLOW);
    expect((await ask(['agents'], 'arn:aws:iam::123456789012:role/admin')).decision).toBe(Decision.DECISION_DENY);
    expect((await ask([], 'arn:aws:iam::123456789012:role/agent')).decision).toBe(Decision.DECISION_DENY);
  });

  it('rejects a request without principal or action', async () => {
    const client = await policyClient('permit (principal, action, resource);');
    await expect(client.decide({ principal: undefined, call: call(), context: {} })).rejects.toMatchObject({ code: 'InvalidRequest' });
    await expect(client.decide(request({ call: { action: 'GetObject', service: '' } }))).rejects.toMatchObject({ code: 'InvalidRequest' });
  });
});

describe('policy loading', () => {
  async function load(text: string, name = `bad${fileCounter++}.cedar`) {
    await writeFile(join(dir, name), text);
    return createPolicyService({ files: [name], baseDir: dir, logger });
  }

  it('rejects a file Cedar cannot parse, naming the file, the position and Cedar’s message', async () => {
    const error = await load('permit (principal, action, resource);\nforbid (principal, action\n', 'broken.cedar').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(AirlockError);
    expect(error).toMatchObject({ code: 'InvalidConfiguration' });
    expect((error as Error).message).toMatch(
      /^Policy file broken\.cedar is invalid: line 2, column 26: failed to parse policies from string: unexpected end of input \(expected .*`is`\)$/,
    );
  });

  it('points at the offending position inside a file', async () => {
    const text = '@id("ok") permit (principal, action, resource);\n\npermit (principal, action, resource) when { principal.groups.contains(1) && };\n';
    await expect(load(text, 'mid.cedar')).rejects.toThrow(/^Policy file mid\.cedar is invalid: line 3, column \d+: /);
  });

  it('rejects a missing file', async () => {
    await expect(createPolicyService({ files: ['nope.cedar'], baseDir: dir, logger })).rejects.toMatchObject({
      code: 'InvalidConfiguration',
      message: expect.stringContaining('Policy file nope.cedar cannot be read'),
    });
  });

  it('rejects bad Airlock annotations', async () => {
    await expect(load('@approval("ops") forbid (principal, action, resource);')).rejects.toThrow(/@approval applies to permit policies only/);
    await expect(load('@approval("ops") @quorum("two") permit (principal, action, resource);')).rejects.toThrow(/@quorum\("two"\) must be a positive whole number/);
    await expect(load('@approval(" , ") permit (principal, action, resource);')).rejects.toThrow(/must name at least one approver group/);
    await expect(load('@quorum("2") permit (principal, action, resource);')).rejects.toThrow(/only makes sense together with @approval/);
    await expect(load('@recording("everything") permit (principal, action, resource);')).rejects.toThrow(/must be one of: metadata, request, full/);
  });

  it('rejects templates and duplicate ids across files', async () => {
    await expect(load('permit (principal == ?principal, action, resource);')).rejects.toThrow(/template/);
    await writeFile(join(dir, 'one.cedar'), '@id("x") permit (principal, action, resource);');
    await writeFile(join(dir, 'two.cedar'), '@id("x") forbid (principal, action, resource);');
    await expect(createPolicyService({ files: ['one.cedar', 'two.cedar'], baseDir: dir, logger })).rejects.toThrow(
      'Policy id "x" in two.cedar is already used in one.cedar (x); @id values must be unique.',
    );
  });

  it('refuses to start with no policy files', async () => {
    await expect(createPolicyService({ files: [], logger })).rejects.toMatchObject({ code: 'InvalidConfiguration' });
  });
});

describe('policies/default.cedar', () => {
  const defaultFile = fileURLToPath(new URL('../../../policies/default.cedar', import.meta.url));
  let client: Awaited<ReturnType<typeof policyClient>>;
  beforeAll(async () => {
    const service = await createPolicyService({ files: [defaultFile], logger });
    client = bindInProcess(PolicyServiceService, service.implementation);
  });

  it('lets any principal assume a role through the STS facade', async () => {
    const response = await client.decide(
      request({ call: { service: 'sts', operation: 'AssumeRoleWithWebIdentity', action: 'sts:AssumeRoleWithWebIdentity', resources: ['arn:aws:iam::123456789012:role/agent'] } }),
    );
    expect(response.decision).toBe(Decision.DECISION_ALLOW);
    expect(response.policyIds).toEqual(['default-assume-any-role']);
  });

  it('allows ordinary AWS calls', async () => {
    expect((await client.decide(request())).decision).toBe(Decision.DECISION_ALLOW);
    expect((await client.decide(request({ call: { service: 'ec2', action: 'ec2:DescribeInstances', resources: [] } }))).decision).toBe(
      Decision.DECISION_ALLOW,
    );
  });

  it.each(['sts:AssumeRole', 'sts:GetSessionToken', 'sts:GetFederationToken'])('refuses credential minting: %s', async (action) => {
    const response = await client.decide(request({ call: { service: 'sts', action, resources: [] } }));
    expect(response.decision).toBe(Decision.DECISION_DENY);
    expect(response.policyIds).toEqual(['default-forbid-credential-minting']);
    expect(response.reason).toContain('Airlock does not hand out AWS credentials');
  });
});
