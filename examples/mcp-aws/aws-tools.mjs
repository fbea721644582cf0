// The MCP tools of the example: each one is a plain AWS SDK for JavaScript v3 call. Nothing here knows about Airlock;
// where the calls go and with which identity is decided by the SDK's own environment configuration (see server.mjs).
import { Buffer } from 'node:buffer';
import { TextDecoder } from 'node:util';
import { GetObjectCommand, ListBucketsCommand, ListObjectsV2Command } from '@aws-sdk/client-s3';
import { GetCallerIdentityCommand } from '@aws-sdk/client-sts';
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { z } from 'zod';

/** What read_object returns when the caller does not ask for a size. */
export const DEFAULT_READ_BYTES = 64 * 1024;
/** The most read_object ever returns, whatever the caller asks: a model's context is not a download channel. */
export const MAX_READ_BYTES = 1024 * 1024;

/**
 * @typedef {import('@aws-sdk/client-s3').S3Client} S3Client
 * @typedef {import('@aws-sdk/client-sts').STSClient} STSClient
 * @typedef {import('@modelcontextprotocol/sdk/types.js').CallToolResult} CallToolResult
 */

const readOnly = { readOnlyHint: true, destructiveHint: false, idempotentHint: true, openWorldHint: true };

/**
 * Builds the MCP server with its four tools.
 * @param {{ s3: S3Client, sts: STSClient, name?: string, version?: string }} options
 * @returns {McpServer}
 */
export function createAwsMcpServer({ s3, sts, name = 'mcp-aws', version = '0.0.0' }) {
  const server = new McpServer(
    { name, version },
    {
      instructions:
        'Read-only access to AWS: who am I (sts GetCallerIdentity), S3 buckets, object listings and small text objects. ' +
        'A refused call comes back as a tool error naming the AWS error code and the reason: tell the user the reason. ' +
        'Do not retry AccessDenied, except after a person has approved the pending approval it names.',
    },
  );

  server.registerTool(
    'whoami',
    {
      title: 'Who am I in AWS',
      description: 'Returns the AWS identity these tools act as (sts:GetCallerIdentity): account, ARN and user id.',
      inputSchema: {},
      outputSchema: { account: z.string(), arn: z.string(), userId: z.string() },
      annotations: readOnly,
    },
    guarded(async () => {
      const identity = await sts.send(new GetCallerIdentityCommand({}));
      return structured({ account: identity.Account ?? '', arn: identity.Arn ?? '', userId: identity.UserId ?? '' });
    }),
  );

  server.registerTool(
    'list_buckets',
    {
      title: 'List S3 buckets',
      description: 'Lists the S3 buckets of the account (s3:ListAllMyBuckets) with their creation dates.',
      inputSchema: {},
      outputSchema: {
        buckets: z.array(z.object({ name: z.string(), creationDate: z.string().optional() })),
      },
      annotations: readOnly,
    },
    guarded(async () => {
      const listed = await s3.send(new ListBucketsCommand({}));
      const buckets = (listed.Buckets ?? []).map((bucket) => ({ name: bucket.Name ?? '', creationDate: bucket.CreationDate?.toISOString() }));
      return structured({ buckets });
    }),
  );

  server.registerTool(
    'list_objects',
    {
      title: 'List objects in an S3 bucket',
      description:
        'Lists objects of a bucket (s3:ListBucket), optionally under a prefix. With delimiter "/" it lists one level and ' +
        'returns the sub-prefixes as commonPrefixes. When isTruncated is true, call again with nextContinuationToken.',
      inputSchema: {
        bucket: z.string().min(1).describe('bucket name'),
        prefix: z.string().optional().describe('only keys that start with this'),
        delimiter: z.string().optional().describe('usually "/" to list one level'),
        maxKeys: z.number().int().min(1).max(1000).optional().describe('at most this many keys (default 200)'),
        continuationToken: z.string().optional().describe('nextContinuationToken of the previous page'),
      },
      outputSchema: {
        bucket: z.string(),
        prefix: z.string(),
        objects: z.array(z.object({ key: z.string(), size: z.number(), lastModified: z.string().optional() })),
        commonPrefixes: z.array(z.string()),
        isTruncated: z.boolean(),
        nextContinuationToken: z.string().optional(),
      },
      annotations: readOnly,
    },
    guarded(async ({ bucket, prefix, delimiter, maxKeys, continuationToken }) => {
      const listed = await s3.send(
        new ListObjectsV2Command({
          Bucket: bucket,
          Prefix: prefix || undefined,
          Delimiter: delimiter || undefined,
          MaxKeys: maxKeys ?? 200,
          ContinuationToken: continuationToken || undefined,
        }),
      );
      return structured({
        bucket,
        prefix: prefix ?? '',
        objects: (listed.Contents ?? []).map((object) => ({
          key: object.Key ?? '',
          size: object.Size ?? 0,
          lastModified: object.LastModified?.toISOString(),
        })),
        commonPrefixes: (listed.CommonPrefixes ?? []).map((common) => common.Prefix ?? ''),
        isTruncated: listed.IsTruncated ?? false,
        nextContinuationToken: listed.NextContinuationToken,
      });
    }),
  );

  server.registerTool(
    'read_object',
    {
      title: 'Read a text object from S3',
      description:
        `Reads an S3 object (s3:GetObject) as UTF-8 text, at most maxBytes (default ${DEFAULT_READ_BYTES}, at most ${MAX_READ_BYTES}). ` +
        'A longer object is cut off (truncated: true); a binary object is described, not shown.',
      inputSchema: {
        bucket: z.string().min(1).describe('bucket name'),
        key: z.string().min(1).describe('object key'),
        maxBytes: z.number().int().min(1).max(MAX_READ_BYTES).optional().describe(`bytes to read at most (default ${DEFAULT_READ_BYTES})`),
      },
      outputSchema: {
        bucket: z.string(),
        key: z.string(),
        contentType: z.string().optional(),
        size: z.number().optional().describe('the whole object, in bytes'),
        bytesRead: z.number(),
        truncated: z.boolean(),
        binary: z.boolean(),
        text: z.string().optional(),
      },
      annotations: readOnly,
    },
    guarded(async ({ bucket, key, maxBytes }) => {
      const limit = maxBytes ?? DEFAULT_READ_BYTES;
      const object = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
      const { bytes, truncated } = await readAtMost(object.Body, limit);
      const text = decodeText(bytes, truncated);
      // A gateway that may rewrite a text body (Airlock masks secrets in answers) streams it without Content-Length;
      // then the size is known only when the whole object was read.
      const size = object.ContentLength ?? (truncated ? undefined : bytes.length);
      const result = {
        bucket,
        key,
        contentType: object.ContentType,
        size,
        bytesRead: bytes.length,
        truncated,
        binary: text === undefined,
        text,
      };
      /** @type {CallToolResult['content']} */
      const content = [];
      if (text === undefined) {
        const described = `${object.ContentType ?? 'no content type'}, ${size === undefined ? `more than ${bytes.length}` : size} bytes`;
        content.push({ type: 'text', text: `s3://${bucket}/${key} is not UTF-8 text (${described}); not shown.` });
      } else {
        content.push({ type: 'text', text });
        if (truncated) {
          const of = size === undefined ? 'more' : String(size);
          content.push({ type: 'text', text: `[truncated: showed the first ${bytes.length} of ${of} bytes of s3://${bucket}/${key}; ask for more with maxBytes]` });
        }
      }
      return { content, structuredContent: result };
    }),
  );

  return server;
}

/**
 * A tool result whose structured content is also given as JSON text, for clients that read only text.
 * @param {Record<string, unknown>} value
 * @returns {CallToolResult}
 */
function structured(value) {
  return { content: [{ type: 'text', text: JSON.stringify(value, null, 2) }], structuredContent: value };
}

/**
 * Wraps a tool so that any failure — an AWS error answer, a credential problem, a network error — becomes an MCP tool
 * error that the model can read, instead of a protocol error or a crash.
 * @template A
 * @param {(args: A) => Promise<CallToolResult>} handler
 * @returns {(args: A) => Promise<CallToolResult>}
 */
function guarded(handler) {
  return async (args) => {
    try {
      return await handler(args);
    } catch (error) {
      return { isError: true, content: [{ type: 'text', text: describeAwsError(error) }] };
    }
  };
}

/**
 * `AccessDenied: <message> (HTTP 403, request id …)`: the AWS error code and message, as the SDK parsed them from the
 * service's answer, so an agent reads the reason it was refused.
 * @param {unknown} error
 * @returns {string}
 */
export function describeAwsError(error) {
  if (!(error instanceof Error)) return `Error: ${String(error)}`;
  const details = /** @type {Error & { Code?: string, $metadata?: { httpStatusCode?: number, requestId?: string } }} */ (error);
  const code = details.Code || details.name || 'Error';
  const message = details.message && details.message !== code ? details.message : 'no message';
  const status = details.$metadata?.httpStatusCode;
  const requestId = details.$metadata?.requestId;
  const where = [status ? `HTTP ${status}` : '', requestId ? `request id ${requestId}` : ''].filter(Boolean).join(', ');
  return `${code}: ${message}${where ? ` (${where})` : ''}`;
}

/**
 * Reads at most `limit` bytes of a response body; the rest is never downloaded (leaving the loop destroys the stream).
 * @param {unknown} body the GetObject Body (a Node.js Readable in Node)
 * @param {number} limit
 * @returns {Promise<{ bytes: Buffer, truncated: boolean }>}
 */
async function readAtMost(body, limit) {
  if (!body) return { bytes: Buffer.alloc(0), truncated: false };
  /** @type {Buffer[]} */
  const chunks = [];
  let length = 0;
  let truncated = false;
  for await (const chunk of /** @type {AsyncIterable<Uint8Array>} */ (body)) {
    const room = limit - length;
    if (chunk.length > room) {
      chunks.push(Buffer.from(chunk.subarray(0, room)));
      length += room;
      truncated = true;
      break;
    }
    chunks.push(Buffer.from(chunk));
    length += chunk.length;
  }
  return { bytes: Buffer.concat(chunks, length), truncated };
}

/**
 * UTF-8 text, or undefined when the bytes are not text. A multi-byte character cut by truncation is dropped.
 * @param {Buffer} bytes
 * @param {boolean} truncated
 * @returns {string | undefined}
 */
function decodeText(bytes, truncated) {
  if (bytes.includes(0)) return undefined;
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(bytes, { stream: truncated });
  } catch {
    return undefined;
  }
}
