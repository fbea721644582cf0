/** A request as the edge received it, before anything decoded or normalised it. */
export interface IncomingRequestHead {
  method: string;
  /** As on the wire: still percent-encoded, without the query. */
  rawPath: string;
  /** Without the leading '?'. */
  rawQuery: string;
  /** node's IncomingMessage.headers: names in lower case. */
  headers: Record<string, string | string[] | undefined>;
}

/**
 * What an `Authorization: AWS4-HMAC-SHA256 ...` header and its companion headers declare, or the X-Amz-* parameters of
 * a presigned URL. Nothing here is verified yet.
 */
export interface ParsedAuthorization {
  accessKeyId: string;
  /** Credential scope date, yyyymmdd. */
  date: string;
  region: string;
  service: string;
  /** Lower case, in the order the client listed them. */
  signedHeaders: string[];
  /** 64 lower-case hex digits. */
  signature: string;
  /** X-Amz-Date, yyyymmddThhmmssZ. */
  amzDate: string;
  /**
   * The x-amz-content-sha256 value as sent (a hex digest or a literal such as UNSIGNED-PAYLOAD), or the SHA-256 of an
   * empty body when the header is absent. For a presigned S3 URL: UNSIGNED-PAYLOAD, or the URL's X-Amz-Content-Sha256.
   */
  payloadHash: string;
  /**
   * False when the client sent no x-amz-content-sha256. Most non-S3 clients (botocore, the AWS CLI) do not send it and
   * sign the SHA-256 of the actual body instead: a caller that receives a body must then hash it and verify with
   * `{ ...auth, payloadHash: sha256hex(body) }`.
   */
  payloadHashFromHeader: boolean;
  /** x-amz-security-token (or X-Amz-Security-Token of a presigned URL), when present. */
  securityToken?: string;
  /** Set for query-string authentication (a presigned URL); the signature covers the query, less X-Amz-Signature. */
  presigned?: { expiresSeconds: number };
}

/** A request Airlock is about to send to AWS. */
export interface OutgoingRequest {
  method: string;
  protocol: 'http:' | 'https:';
  hostname: string;
  port?: number;
  /** Encoded, wire form. */
  path: string;
  /** Decoded names and values. */
  query: Record<string, string | string[]>;
  headers: Record<string, string>;
}
