// A stock AWS SDK for JavaScript v3 program configured by environment alone (AWS_ENDPOINT_URL,
// AWS_WEB_IDENTITY_TOKEN_FILE, AWS_ROLE_ARN, AWS_REGION): the way an agent uses Airlock.
// Usage: node sdk-s3-journey.mjs <bucket> <large-file>; prints one JSON line with what it saw.
import { createHash } from 'node:crypto';
import { createReadStream, statSync } from 'node:fs';
import {
  CreateBucketCommand,
  DeleteBucketCommand,
  DeleteObjectCommand,
  GetObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  S3Client,
} from '@aws-sdk/client-s3';
import { GetCallerIdentityCommand, STSClient } from '@aws-sdk/client-sts';

const [bucket, largeFile] = process.argv.slice(2);
const s3 = new S3Client({});
const sts = new STSClient({});

const identity = await sts.send(new GetCallerIdentityCommand({}));
await s3.send(new CreateBucketCommand({ Bucket: bucket }));
await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'notes/hello.txt', Body: 'hello through airlock', ContentType: 'text/plain' }));
const size = statSync(largeFile).size;
await s3.send(
  new PutObjectCommand({ Bucket: bucket, Key: 'blobs/large.bin', Body: createReadStream(largeFile), ContentLength: size, ContentType: 'application/octet-stream' }),
);
const listed = await s3.send(new ListObjectsV2Command({ Bucket: bucket }));
const small = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'notes/hello.txt' }));
const smallText = await small.Body.transformToString();
const large = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'blobs/large.bin' }));
const digest = createHash('sha256');
let largeBytes = 0;
for await (const chunk of large.Body) {
  digest.update(chunk);
  largeBytes += chunk.length;
}
await s3.send(new DeleteObjectCommand({ Bucket: bucket, Key: 'notes/hello.txt' }));
await s3.send(new DeleteObjectCommand({ Bucket: bucket, Key: 'blobs/large.bin' }));
await s3.send(new DeleteBucketCommand({ Bucket: bucket }));

console.log(
  JSON.stringify({
    callerArn: identity.Arn,
    keys: (listed.Contents ?? []).map((object) => object.Key).sort(),
    smallText,
    largeBytes,
    largeSha256: digest.digest('hex'),
  }),
);
