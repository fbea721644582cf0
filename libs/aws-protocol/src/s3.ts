import type { CallDescription } from './call.js';

/**
 * Names an S3 call from its method, path and sub-resource (path-style addressing). IAM action names follow the
 * "Actions, resources, and condition keys for Amazon S3" page: several operations share one action.
 */
export function describeS3Call(method: string, path: string, query: Record<string, string | string[]>, headers: Record<string, string | string[] | undefined>, partition: string): CallDescription {
  const [bucket, key] = splitBucketAndKey(path);
  const has = (name: string) => Object.hasOwn(query, name);
  const bucketArn = bucket ? `arn:${partition}:s3:::${bucket}` : undefined;
  const objectArn = bucket && key !== undefined ? `arn:${partition}:s3:::${bucket}/${key}` : undefined;
  const parameters: Record<string, string> = {};
  if (bucket) parameters.Bucket = bucket;
  if (key !== undefined) parameters.Key = key;

  const named = (operation: string, action: string, resources: (string | undefined)[], known = true): CallDescription => ({
    operation,
    action: `s3:${action}`,
    resources: resources.filter((r): r is string => r !== undefined),
    parameters,
    known,
  });

  if (!bucket) {
    return method === 'GET' ? named('ListBuckets', 'ListAllMyBuckets', []) : named(`${method} /`, 'Unknown', [], false);
  }

  if (key === undefined) {
    const sub = bucketSubresource(query);
    switch (method) {
      case 'HEAD':
        return named('HeadBucket', 'ListBucket', [bucketArn]);
      case 'PUT':
        return sub ? named(`PutBucket${sub}`, `PutBucket${sub}`, [bucketArn]) : named('CreateBucket', 'CreateBucket', [bucketArn]);
      case 'DELETE':
        return sub ? named(`DeleteBucket${sub}`, `PutBucket${sub}`, [bucketArn]) : named('DeleteBucket', 'DeleteBucket', [bucketArn]);
      case 'POST':
        return has('delete') ? named('DeleteObjects', 'DeleteObject', [bucketArn]) : named('POST bucket', 'Unknown', [bucketArn], false);
      case 'GET':
        if (has('uploads')) return named('ListMultipartUploads', 'ListBucketMultipartUploads', [bucketArn]);
        if (has('versions')) return named('ListObjectVersions', 'ListBucketVersions', [bucketArn]);
        if (has('location')) return named('GetBucketLocation', 'GetBucketLocation', [bucketArn]);
        if (sub) return named(`GetBucket${sub}`, `GetBucket${sub}`, [bucketArn]);
        return named(query['list-type'] === '2' ? 'ListObjectsV2' : 'ListObjects', 'ListBucket', [bucketArn]);
      default:
        return named(`${method} bucket`, 'Unknown', [bucketArn], false);
    }
  }

  switch (method) {
    case 'HEAD':
      return named('HeadObject', 'GetObject', [objectArn]);
    case 'GET':
      if (has('uploadId')) return named('ListParts', 'ListMultipartUploadParts', [objectArn]);
      if (has('tagging')) return named('GetObjectTagging', 'GetObjectTagging', [objectArn]);
      if (has('acl')) return named('GetObjectAcl', 'GetObjectAcl', [objectArn]);
      return named('GetObject', 'GetObject', [objectArn]);
    case 'PUT':
      if (has('partNumber') && has('uploadId')) return named(headers['x-amz-copy-source'] ? 'UploadPartCopy' : 'UploadPart', 'PutObject', [objectArn]);
      if (has('tagging')) return named('PutObjectTagging', 'PutObjectTagging', [objectArn]);
      if (has('acl')) return named('PutObjectAcl', 'PutObjectAcl', [objectArn]);
      if (headers['x-amz-copy-source']) return named('CopyObject', 'PutObject', [objectArn]);
      return named('PutObject', 'PutObject', [objectArn]);
    case 'POST':
      if (has('uploads')) return named('CreateMultipartUpload', 'PutObject', [objectArn]);
      if (has('uploadId')) return named('CompleteMultipartUpload', 'PutObject', [objectArn]);
      return named('POST object', 'Unknown', [objectArn], false);
    case 'DELETE':
      if (has('uploadId')) return named('AbortMultipartUpload', 'AbortMultipartUpload', [objectArn]);
      if (has('tagging')) return named('DeleteObjectTagging', 'DeleteObjectTagging', [objectArn]);
      return named('DeleteObject', 'DeleteObject', [objectArn]);
    default:
      return named(`${method} object`, 'Unknown', [objectArn], false);
  }
}

const bucketSubresources: Record<string, string> = {
  policy: 'Policy',
  acl: 'Acl',
  tagging: 'Tagging',
  versioning: 'Versioning',
  cors: 'Cors',
  lifecycle: 'Lifecycle',
  encryption: 'Encryption',
  website: 'Website',
  notification: 'Notification',
  logging: 'Logging',
  replication: 'Replication',
  ownershipControls: 'OwnershipControls',
  publicAccessBlock: 'PublicAccessBlock',
  'object-lock': 'ObjectLockConfiguration',
};

function bucketSubresource(query: Record<string, string | string[]>): string | undefined {
  for (const [name, suffix] of Object.entries(bucketSubresources)) if (Object.hasOwn(query, name)) return suffix;
  return undefined;
}

function splitBucketAndKey(path: string): [string | undefined, string | undefined] {
  const trimmed = path.startsWith('/') ? path.slice(1) : path;
  if (trimmed === '') return [undefined, undefined];
  const slash = trimmed.indexOf('/');
  if (slash === -1) return [safeDecode(trimmed), undefined];
  const key = trimmed.slice(slash + 1);
  return [safeDecode(trimmed.slice(0, slash)), key === '' ? undefined : safeDecode(key)];
}

function safeDecode(value: string): string {
  try {
    return decodeURIComponent(value);
  } catch {
    return value;
  }
}
