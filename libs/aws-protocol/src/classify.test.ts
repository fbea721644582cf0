import { describe, expect, it } from 'vitest';
import { classify } from './classify.js';
import { serviceInfo } from './services.js';

const s3 = serviceInfo('s3')!;
const facts = (method: string, path: string, query: Record<string, string> = {}, headers: Record<string, string> = {}) => ({
  method,
  path,
  query,
  headers,
  partition: 'aws',
});

describe('classify', () => {
  it.each([
    ['GET', '/', {}, 'ListBuckets', 's3:ListAllMyBuckets', []],
    ['PUT', '/logs', {}, 'CreateBucket', 's3:CreateBucket', ['arn:aws:s3:::logs']],
    ['GET', '/logs', { 'list-type': '2' }, 'ListObjectsV2', 's3:ListBucket', ['arn:aws:s3:::logs']],
    ['PUT', '/logs/a b/c', {}, 'PutObject', 's3:PutObject', ['arn:aws:s3:::logs/a b/c']],
    ['HEAD', '/logs/k', {}, 'HeadObject', 's3:GetObject', ['arn:aws:s3:::logs/k']],
    ['PUT', '/logs/k', { partNumber: '1', uploadId: 'u' }, 'UploadPart', 's3:PutObject', ['arn:aws:s3:::logs/k']],
    ['POST', '/logs/k', { uploads: '' }, 'CreateMultipartUpload', 's3:PutObject', ['arn:aws:s3:::logs/k']],
    ['DELETE', '/logs', { policy: '' }, 'DeleteBucketPolicy', 's3:PutBucketPolicy', ['arn:aws:s3:::logs']],
    ['POST', '/logs', { delete: '' }, 'DeleteObjects', 's3:DeleteObject', ['arn:aws:s3:::logs']],
  ] as const)('names S3 %s %s %j as %s', (method, path, query, operation, action, resources) => {
    const call = classify(s3, facts(method, path, query));
    expect(call).toMatchObject({ operation, action, resources, known: true });
  });

  it('names query-protocol calls from the form body and masks secret-looking parameters', () => {
    const call = classify(serviceInfo('sts')!, {
      ...facts('POST', '/'),
      bodyParameters: { Action: 'AssumeRole', Version: '2011-06-15', RoleArn: 'arn:aws:iam::1:role/x', SerialNumber: 'x', TokenCode: '123456' },
    });
    expect(call).toEqual({
      operation: 'AssumeRole',
      action: 'sts:AssumeRole',
      resources: ['arn:aws:iam::1:role/x'],
      parameters: { RoleArn: 'arn:aws:iam::1:role/x', SerialNumber: 'x', TokenCode: '[MASKED]' },
      known: true,
    });
  });

  it('names json-protocol calls from X-Amz-Target', () => {
    const call = classify(serviceInfo('dynamodb')!, { ...facts('POST', '/', {}, { 'x-amz-target': 'DynamoDB_20120810.GetItem' }), bodyParameters: { TableName: 't' } });
    expect(call).toMatchObject({ operation: 'GetItem', action: 'dynamodb:GetItem', parameters: { TableName: 't' } });
  });

  it('names what it cannot understand as unknown', () => {
    expect(classify(serviceInfo('lambda')!, facts('GET', '/2015-03-31/functions'))).toMatchObject({ known: false, operation: 'Unknown' });
    expect(classify(serviceInfo('sts')!, { ...facts('POST', '/'), bodyParameters: { Action: '<script>' } })).toMatchObject({ known: false });
  });
});
