import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Decision, type AwsCall, type DecideRequest } from '@airlock/contracts';
import { createLogger } from '@airlock/logging';
import { PolicyEngine } from './engine.js';

/** The seed's rule, evaluated exactly as policies/examples/ec2-terminate.cedar writes it. */
const example = fileURLToPath(new URL('../../../policies/examples/ec2-terminate.cedar', import.meta.url));
const defaultPack = fileURLToPath(new URL('../../../policies/default.cedar', import.meta.url));
const logger = createLogger({ service: 'policy-test', level: 'silent' });
const instance = 'arn:aws:ec2:eu-west-1:123456789012:instance/i-0123456789abcdef0';
const reason = 'Only senior engineers may terminate EC2 instances, and only after a manager approves the request.';

function ask(groups: string[], action = 'ec2:TerminateInstances', resources = [instance]): DecideRequest {
  const [service = '', operation = ''] = action.split(':');
  const call: AwsCall = { service, operation, action, resources, region: 'eu-west-1', roleArn: 'arn:aws:iam::123456789012:role/agent', parameters: {} };
  return { principal: { subject: 'sam', issuer: 'https://idp.example.com', groups, sessionId: 's', name: 'Sam' }, call, context: { operationKnown: 'true' } };
}

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'airlock-example-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

// The first policy set a test worker loads waits for Cedar's validator to warm up: about a second, more on a busy machine.
describe('policies/examples/ec2-terminate.cedar on its own', { timeout: 30_000 }, () => {
  let engine: PolicyEngine;
  beforeAll(async () => {
    engine = await PolicyEngine.create({ files: [example], logger });
  }, 30_000);

  it('holds a senior engineer’s TerminateInstances for approval by a manager', () => {
    const response = engine.decide(ask(['senior-engineers']));
    expect(response.decision).toBe(Decision.DECISION_APPROVAL_REQUIRED);
    expect(response.policyIds).toEqual(['ec2-terminate-senior-with-manager-approval']);
    expect(response.approval).toEqual({ approverGroups: ['managers'], quorum: 1, pendingTtlSeconds: 900, grantWindowSeconds: 600 });
  });

  it('also holds it when the senior engineer is in other groups too, managers included: the rule does not waive approval', () => {
    const response = engine.decide(ask(['engineers', 'senior-engineers', 'managers']));
    expect(response.decision).toBe(Decision.DECISION_APPROVAL_REQUIRED);
    expect(response.approval?.approverGroups).toEqual(['managers']);
  });

  it.each([
    ['a junior engineer', ['engineers']],
    ['a manager who is not a senior engineer', ['managers']],
    ['a principal with no groups', []],
  ])('denies %s, with the policy’s reason and id', (_who, groups) => {
    const response = engine.decide(ask(groups));
    expect(response.decision).toBe(Decision.DECISION_DENY);
    expect(response.reason).toBe(reason);
    expect(response.policyIds).toEqual(['ec2-terminate-only-senior-engineers']);
    expect(response.approval).toBeUndefined();
  });

  it('decides every instance of a multi-instance call the same way', () => {
    const two = [instance, 'arn:aws:ec2:eu-west-1:123456789012:instance/i-0fedcba9876543210'];
    expect(engine.decide(ask(['senior-engineers'], 'ec2:TerminateInstances', two)).decision).toBe(Decision.DECISION_APPROVAL_REQUIRED);
    expect(engine.decide(ask(['engineers'], 'ec2:TerminateInstances', two)).decision).toBe(Decision.DECISION_DENY);
  });

  it.each(['ec2:StopInstances', 'ec2:DescribeInstances', 's3:DeleteBucket'])('neither permits nor forbids %s', (action) => {
    for (const groups of [['senior-engineers'], ['engineers']]) {
      const response = engine.decide(ask(groups, action));
      expect(response.decision).toBe(Decision.DECISION_DENY);
      expect(response.policyIds).toEqual([]);
      expect(response.reason).toMatch(/^No Airlock policy permits /);
    }
  });
});

describe('ec2-terminate.cedar beside other policies', () => {
  it('leaves other actions to the other policies, and still decides TerminateInstances as written', async () => {
    const baseline = join(dir, 'baseline.cedar');
    await writeFile(
      baseline,
      '@id("baseline") permit (principal, action, resource) unless { action == Airlock::Action::"ec2:TerminateInstances" };',
    );
    const engine = await PolicyEngine.create({ files: [baseline, example], logger });
    for (const action of ['ec2:StopInstances', 'ec2:DescribeInstances', 's3:DeleteBucket']) {
      for (const groups of [['senior-engineers'], ['engineers'], []]) {
        const response = engine.decide(ask(groups, action));
        expect(response.decision).toBe(Decision.DECISION_ALLOW);
        expect(response.policyIds).toEqual(['baseline']);
      }
    }
    expect(engine.decide(ask(['senior-engineers'])).decision).toBe(Decision.DECISION_APPROVAL_REQUIRED);
    expect(engine.decide(ask(['engineers'])).reason).toBe(reason);
  });

  it('with default.cedar: a senior still needs a manager, others are denied, credential minting still refused', async () => {
    // An @approval permit gates what it covers even beside the default pack's blanket permit.
    const engine = await PolicyEngine.create({ files: [defaultPack, example], logger });
    expect(engine.decide(ask(['engineers'])).decision).toBe(Decision.DECISION_DENY);
    expect(engine.decide(ask(['engineers'])).reason).toBe(reason);
    expect(engine.decide(ask(['senior-engineers'], 'sts:GetSessionToken', [])).policyIds).toEqual(['default-forbid-credential-minting']);
    expect(engine.decide(ask(['engineers'], 'ec2:DescribeInstances', [])).decision).toBe(Decision.DECISION_ALLOW);
    const senior = engine.decide(ask(['senior-engineers']));
    expect(senior.decision).toBe(Decision.DECISION_APPROVAL_REQUIRED);
    expect(senior.approval?.approverGroups).toEqual(['managers']);
  });
});
