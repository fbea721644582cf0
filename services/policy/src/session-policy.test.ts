import { describe, expect, it } from 'vitest';
import { sessionPolicyFor, sessionPolicyLimit } from './session-policy.js';

const policy = (actions: string[], resources: string[]) =>
  `{"Version":"2012-10-17","Statement":[{"Sid":"Airlock","Effect":"Allow","Action":${JSON.stringify(actions)},"Resource":${JSON.stringify(resources)}}]}`;

describe('session policies', () => {
  it.each([
    ['action scope: exactly the action on exactly the resources', 'action', 'ec2:TerminateInstances', ['arn:aws:ec2:eu-west-1:1:instance/i-1', 'arn:aws:ec2:eu-west-1:1:instance/i-2'], policy(['ec2:TerminateInstances'], ['arn:aws:ec2:eu-west-1:1:instance/i-1', 'arn:aws:ec2:eu-west-1:1:instance/i-2'])],
    ['action scope on a call that names no resource', 'action', 's3:ListAllMyBuckets', [], policy(['s3:ListAllMyBuckets'], ['*'])],
    ['action scope: a resource named twice appears once', 'action', 's3:GetObject', ['arn:aws:s3:::b/k', 'arn:aws:s3:::b/k'], policy(['s3:GetObject'], ['arn:aws:s3:::b/k'])],
    ['action scope: IAM wildcards in a key are written as literals', 'action', 's3:DeleteObject', ['arn:aws:s3:::b/a*b?c$d'], policy(['s3:DeleteObject'], ['arn:aws:s3:::b/a${*}b${?}c${$}d'])],
    ['service scope: the whole service, any resource', 'service', 's3:GetObject', ['arn:aws:s3:::b/k'], policy(['s3:*'], ['*'])],
    ['role scope: no session policy', 'role', 's3:GetObject', ['arn:aws:s3:::b/k'], ''],
  ] as const)('%s', (_name, scope, action, resources, expected) => {
    expect(sessionPolicyFor(scope, action, resources)).toBe(expected);
  });

  it('keeps within what STS accepts: too many resources scope the action to any resource, never more than the action', () => {
    const keys = Array.from({ length: 100 }, (_, index) => `arn:aws:s3:::bucket/objects/key-${index}`);
    const scoped = sessionPolicyFor('action', 's3:DeleteObject', keys);
    expect(scoped).toBe(policy(['s3:DeleteObject'], ['*']));
    expect(scoped.length).toBeLessThanOrEqual(sessionPolicyLimit);
  });
});
