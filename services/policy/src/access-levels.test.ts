import { describe, expect, it } from 'vitest';
import { accessLevelOf, actionInfo, catalogueActions, crossGroupsOf, serviceActions } from './access-levels.js';

describe('access levels', () => {
  it.each([
    // read-only: List/Describe are list, the rest read
    ['s3:GetObject', 'read', []],
    ['s3:ListBucket', 'list', []],
    ['s3:ListAllMyBuckets', 'list', []],
    ['ec2:DescribeInstances', 'list', []],
    ['dynamodb:Query', 'read', []],
    ['secretsmanager:GetSecretValue', 'read', []],
    ['iam:GetRole', 'read', []],
    ['sts:GetCallerIdentity', 'read', []],
    // tagging
    ['ec2:CreateTags', 'tagging', []],
    ['ec2:DeleteTags', 'tagging', []],
    ['s3:PutBucketTagging', 'tagging', []],
    ['rds:AddTagsToResource', 'tagging', []],
    ['route53:ChangeTagsForResource', 'tagging', []],
    ['iam:TagRole', 'tagging', []],
    ['lambda:UntagResource', 'tagging', []],
    // permissions
    ['s3:PutBucketPolicy', 'permissions', []],
    ['s3:DeleteBucketPolicy', 'permissions', ['destroy']],
    ['s3:PutBucketPublicAccessBlock', 'permissions', []],
    ['s3:PutObjectAcl', 'permissions', []],
    ['iam:AttachRolePolicy', 'permissions', []],
    ['kms:CreateGrant', 'permissions', []],
    ['kms:PutKeyPolicy', 'permissions', []],
    ['lambda:AddPermission', 'permissions', []],
    // writes, some destroying
    ['s3:PutObject', 'write', []],
    ['s3:DeleteObject', 'write', ['destroy']],
    ['s3:DeleteBucket', 'write', ['destroy']],
    ['ec2:TerminateInstances', 'write', ['destroy']],
    ['dynamodb:BatchWriteItem', 'write', []],
    ['sqs:PurgeQueue', 'write', ['destroy']],
    ['kms:ScheduleKeyDeletion', 'write', ['destroy']],
    ['kms:CancelKeyDeletion', 'write', []],
    ['iam:CreateRole', 'write', []],
    ['ecr:PutLifecyclePolicy', 'write', []],
    ['logs:PutRetentionPolicy', 'write', []],
    ['cloudfront:CreateDistributionWithTags', 'write', []],
    // credential minting, whatever its level
    ['sts:AssumeRole', 'write', ['credentials']],
    ['sts:GetSessionToken', 'read', ['credentials']],
    ['iam:CreateAccessKey', 'write', ['credentials']],
  ] as const)('%s is %s %j', (action, level, groups) => {
    expect(actionInfo(action)).toEqual({ level, groups });
  });

  it('knows nothing of actions outside the catalogue', () => {
    expect(actionInfo('s3:FrobnicateBucket')).toBeUndefined();
    expect(actionInfo('nope:GetThing')).toBeUndefined();
    expect(actionInfo('GetObject')).toBeUndefined();
  });

  it('judges from the name and the read-only flag alone', () => {
    expect(accessLevelOf('ListThings', true)).toBe('list');
    expect(accessLevelOf('ListThings', false)).toBe('write');
    expect(accessLevelOf('UntagThing', false)).toBe('tagging');
    expect(crossGroupsOf('x:BatchDeleteThings', 'write')).toEqual(['destroy']);
    expect(crossGroupsOf('x:DeleteTags', 'tagging')).toEqual([]);
  });

  it('covers the whole catalogue, every action in exactly one level', () => {
    const all = catalogueActions();
    expect(all.size).toBeGreaterThan(15_000);
    const levels = new Map<string, number>();
    for (const info of all.values()) levels.set(info.level, (levels.get(info.level) ?? 0) + 1);
    expect([...levels.keys()].sort()).toEqual(['list', 'permissions', 'read', 'tagging', 'write']);
    // Per-service parsing gives the same answers as the whole catalogue.
    expect(serviceActions('s3').get('s3:GetObjectVersion')).toEqual(all.get('s3:GetObjectVersion'));
  });
});
