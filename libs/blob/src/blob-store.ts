/**
 * Objects by key: session recordings and anything else too big or too permanent for the state store.
 * Both drivers (S3 and a local folder) implement exactly these semantics and pass one contract suite.
 */
export interface PutOptions {
  contentType?: string;
}

export interface BlobEntry {
  key: string;
  size: number;
}

export interface BlobStore {
  /** Replaces any object under the key; readers see the old object or the new one, never a part. */
  put(key: string, body: Uint8Array | string, options?: PutOptions): Promise<void>;
  /** null when there is no object under the key. */
  get(key: string): Promise<Uint8Array | null>;
  /** Keys starting with `prefix`, in lexicographic order of their UTF-8 bytes (S3's order). */
  list(prefix: string): AsyncIterable<BlobEntry>;
  close(): Promise<void>;
}
