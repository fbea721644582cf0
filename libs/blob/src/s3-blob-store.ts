import {
  CreateBucketCommand,
  GetObjectCommand,
  HeadBucketCommand,
  PutObjectCommand,
  S3Client,
  paginateListObjectsV2,
} from '@aws-sdk/client-s3';
import { AirlockError } from '@airlock/errors';
import type { BlobEntry, BlobStore, PutOptions } from './blob-store.js';
import { validateKey } from './keys.js';
import { fromS3Error, isMissing } from './s3-errors.js';

export interface S3BlobStoreOptions {
  bucket: string;
  region?: string;
  /** For S3-compatible services and tests; AWS's own endpoint when omitted. */
  endpoint?: string;
  forcePathStyle?: boolean;
  /** Create the bucket when it does not exist (development and tests); otherwise a missing bucket is an error. */
  createBucket?: boolean;
}

/**
 * Credentials come only from the SDK's default chain (workload identity, instance profile, environment): this
 * store never takes keys as options, so none can end up in configuration files.
 */
export async function createS3BlobStore(options: S3BlobStoreOptions): Promise<BlobStore> {
  const target = `s3://${options.bucket}${options.endpoint ? ` at ${options.endpoint}` : ''}`;
  const client = new S3Client({
    ...(options.region ? { region: options.region } : {}),
    ...(options.endpoint ? { endpoint: options.endpoint } : {}),
    ...(options.forcePathStyle !== undefined ? { forcePathStyle: options.forcePathStyle } : {}),
    maxAttempts: 3,
    // Fail a dead endpoint in seconds rather than the OS's minutes; callers fail closed on DependencyUnavailable.
    requestHandler: { connectionTimeout: 3_000, requestTimeout: 30_000 },
  });
  try {
    await ensureBucket(client, options.bucket, options.createBucket === true, target);
  } catch (error) {
    client.destroy();
    throw error;
  }
  return new S3BlobStore(client, options.bucket, target);
}

/** Checks at start-up that the bucket is reachable with these credentials, so misconfiguration shows at once. */
async function ensureBucket(client: S3Client, bucket: string, create: boolean, target: string): Promise<void> {
  try {
    await client.send(new HeadBucketCommand({ Bucket: bucket }));
    return;
  } catch (error) {
    if (!isMissing(error)) throw fromS3Error(error, target, 'HeadBucket');
  }
  if (!create) throw new AirlockError('InvalidConfiguration', `The bucket ${target} does not exist.`);
  try {
    const region = await client.config.region();
    await client.send(
      new CreateBucketCommand({
        Bucket: bucket,
        ...(region && region !== 'us-east-1' ? { CreateBucketConfiguration: { LocationConstraint: region as never } } : {}),
      }),
    );
  } catch (error) {
    // Someone else (another replica) created it first: that is what we wanted.
    if ((error as { name?: string }).name === 'BucketAlreadyOwnedByYou') return;
    throw fromS3Error(error, target, 'CreateBucket');
  }
}

class S3BlobStore implements BlobStore {
  private closed = false;

  constructor(
    private readonly client: S3Client,
    private readonly bucket: string,
    private readonly target: string,
  ) {}

  async put(key: string, body: Uint8Array | string, options: PutOptions = {}): Promise<void> {
    validateKey(key);
    this.assertOpen();
    try {
      await this.client.send(
        new PutObjectCommand({
          Bucket: this.bucket,
          Key: key,
          Body: body,
          ...(options.contentType ? { ContentType: options.contentType } : {}),
        }),
      );
    } catch (error) {
      throw fromS3Error(error, this.target, 'PutObject');
    }
  }

  async get(key: string): Promise<Uint8Array | null> {
    validateKey(key);
    this.assertOpen();
    try {
      const response = await this.client.send(new GetObjectCommand({ Bucket: this.bucket, Key: key }));
      if (!response.Body) return new Uint8Array();
      return await response.Body.transformToByteArray();
    } catch (error) {
      if ((error as { name?: string }).name === 'NoSuchKey') return null;
      throw fromS3Error(error, this.target, 'GetObject');
    }
  }

  async *list(prefix: string): AsyncIterable<BlobEntry> {
    this.assertOpen();
    try {
      for await (const page of paginateListObjectsV2({ client: this.client }, { Bucket: this.bucket, Prefix: prefix })) {
        for (const object of page.Contents ?? []) {
          if (object.Key !== undefined) yield { key: object.Key, size: object.Size ?? 0 };
        }
      }
    } catch (error) {
      throw fromS3Error(error, this.target, 'ListObjectsV2');
    }
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.client.destroy();
  }

  private assertOpen(): void {
    if (this.closed) throw new AirlockError('DependencyUnavailable', `The S3 blob store for ${this.target} is closed.`);
  }
}
