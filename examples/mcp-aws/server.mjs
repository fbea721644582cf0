#!/usr/bin/env node
// An MCP server (stdio transport) whose tools call AWS with the stock AWS SDK for JavaScript v3.
//
// It is configured by the environment alone, the way every AWS SDK is; pointed at Airlock that is:
//   AWS_ENDPOINT_URL             Airlock's URL: the endpoint of every service, STS included
//   AWS_WEB_IDENTITY_TOKEN_FILE  an OIDC token from an issuer Airlock trusts, re-read whenever credentials are renewed
//   AWS_ROLE_ARN                 the role to act as
//   AWS_REGION                   the region to call
// There is no AWS key anywhere and no Airlock-specific code: the SDK's default credential chain exchanges the token
// (sts:AssumeRoleWithWebIdentity, answered by Airlock) and signs every call with the session it gets back.
import { readFileSync } from 'node:fs';
import { S3Client } from '@aws-sdk/client-s3';
import { STSClient } from '@aws-sdk/client-sts';
import { StdioServerTransport } from '@modelcontextprotocol/sdk/server/stdio.js';
import { createAwsMcpServer } from './aws-tools.mjs';

const { name, version } = JSON.parse(readFileSync(new URL('./package.json', import.meta.url), 'utf8'));

// stdout carries the MCP protocol; anything for people goes to stderr.
const log = (/** @type {string} */ line) => process.stderr.write(`mcp-aws: ${line}\n`);

const s3 = new S3Client({});
const sts = new STSClient({});
const server = createAwsMcpServer({ s3, sts, name, version });

let closing = false;
async function shutdown() {
  if (closing) return;
  closing = true;
  try {
    await server.close();
  } finally {
    s3.destroy();
    sts.destroy();
    process.exit(0);
  }
}
// The client ends the session by closing our stdin (then SIGTERM if we linger).
process.stdin.on('end', shutdown);
process.on('SIGTERM', shutdown);
process.on('SIGINT', shutdown);

await server.connect(new StdioServerTransport());
log(
  `ready (endpoint ${process.env.AWS_ENDPOINT_URL ?? 'default'}, region ${process.env.AWS_REGION ?? process.env.AWS_DEFAULT_REGION ?? 'unset'}, ` +
    `role ${process.env.AWS_ROLE_ARN ?? 'none'})`,
);
