export type { BlobEntry, BlobStore, PutOptions } from './blob-store.js';
export { createS3BlobStore, type S3BlobStoreOptions } from './s3-blob-store.js';
export { createFileBlobStore, type FileBlobStoreOptions } from './file-blob-store.js';
