import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MaskingServiceService, type MaskRequest, type MaskResponse } from '@airlock/contracts';
import { createLogger } from '@airlock/logging';
import {
  bindInProcess,
  bindService,
  createGrpcClient,
  startGrpcServer,
  type ClosableClient,
  type RunningGrpcServer,
  type ServiceClient,
} from '@airlock/transport';
import { createMaskingService } from './service.js';

const logger = createLogger({ service: 'masking-test', level: 'silent' });
const secretKey = 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY';
const answer = `<GetSessionTokenResponse><Credentials><AccessKeyId>ASIAIOSFODNN7EXAMPLE</AccessKeyId><SecretAccessKey>${secretKey}</SecretAccessKey><SessionToken>FwoGZXIvYXdzEBYaD</SessionToken></Credentials></GetSessionTokenResponse>`;
const masked =
  '<GetSessionTokenResponse><Credentials><AccessKeyId>[MASKED:aws-access-key-id]</AccessKeyId><SecretAccessKey>[MASKED:aws-secret-key]</SecretAccessKey><SessionToken>[MASKED:aws-session-token]</SessionToken></Credentials></GetSessionTokenResponse>';

async function* messages(profile: string, body: Buffer, chunkSize: number): AsyncIterable<MaskRequest> {
  yield { part: { $case: 'header', value: { profile, service: 'sts', operation: 'GetSessionToken', contentType: 'text/xml', ranged: false } } };
  for (let offset = 0; offset < body.length; offset += chunkSize) {
    yield { part: { $case: 'data', value: body.subarray(offset, offset + chunkSize) } };
  }
}

async function collect(responses: AsyncIterable<MaskResponse>) {
  const all: MaskResponse[] = [];
  for await (const response of responses) all.push(response);
  return { all, data: Buffer.concat(all.map((response) => response.data)).toString(), last: all.at(-1) };
}

let client: ServiceClient<typeof MaskingServiceService>;
beforeAll(async () => {
  const service = await createMaskingService({ logger });
  client = bindInProcess(service.definition, service.implementation);
});

describe('masking plan', () => {
  it.each([
    ['sts', 'text/xml', true],
    ['ec2', 'text/xml;charset=UTF-8', true],
    ['dynamodb', 'application/x-amz-json-1.0', true],
    ['lambda', 'application/json', true],
    ['s3', 'application/xml', true],
    ['s3', 'text/plain', true],
    ['sqs', '', true],
    ['s3', '', false],
    ['s3', 'application/octet-stream', false],
    ['s3', 'image/png', false],
    ['s3', 'application/zip', false],
  ])('%s answer with content type "%s" → transform %s', async (service, contentType, transform) => {
    const response = await client.plan({ profile: '', service, operation: 'Op', contentType });
    expect(response).toMatchObject({ transform, profile: 'default' });
  });

  it('never transforms under the "none" profile and rejects unknown profiles', async () => {
    expect(await client.plan({ profile: 'none', service: 'sts', operation: 'Op', contentType: 'text/xml' })).toEqual({
      transform: false,
      profile: 'none',
      rangeMargin: 0,
    });
    await expect(client.plan({ profile: 'strict', service: 'sts', operation: 'Op', contentType: 'text/xml' })).rejects.toMatchObject({
      code: 'InvalidRequest',
      message: expect.stringContaining('Unknown masking profile "strict"'),
    });
  });
});

describe('masking stream (in process)', () => {
  it('masks a body sent in small chunks and reports counts only with the last message', async () => {
    const { all, data, last } = await collect(client.mask(messages('default', Buffer.from(answer), 7)));
    expect(data).toBe(masked);
    expect(last?.masked).toEqual([
      { kind: 'aws-secret-key', rule: 'field:Credentials.SecretAccessKey', location: 'Credentials.SecretAccessKey', count: 1 },
      { kind: 'aws-session-token', rule: 'field:Credentials.SessionToken', location: 'Credentials.SessionToken', count: 1 },
      { kind: 'aws-access-key-id', rule: 'detector:aws-access-key-id', location: 'Credentials.AccessKeyId', count: 1 },
    ]);
    expect(all.slice(0, -1).every((response) => response.masked.length === 0)).toBe(true);
    expect(all.length).toBeGreaterThan(1);
  });

  it('answers an empty body with one empty last message', async () => {
    const { all } = await collect(client.mask(messages('default', Buffer.alloc(0), 1)));
    expect(all).toEqual([{ data: Buffer.alloc(0), masked: [] }]);
  });

  it('passes bodies through under the "none" profile', async () => {
    const { data, last } = await collect(client.mask(messages('none', Buffer.from(answer), 10)));
    expect(data).toBe(answer);
    expect(last?.masked).toEqual([]);
  });

  it('rejects a stream that does not start with its header', async () => {
    async function* noHeader(): AsyncIterable<MaskRequest> {
      yield { part: { $case: 'data', value: Buffer.from('x') } };
    }
    await expect(collect(client.mask(noHeader()))).rejects.toMatchObject({ code: 'InvalidRequest' });
  });
});

describe('masking stream over gRPC', () => {
  let server: RunningGrpcServer;
  let grpc: ClosableClient<typeof MaskingServiceService>;
  beforeAll(async () => {
    const service = await createMaskingService({ logger });
    server = await startGrpcServer({ listen: '127.0.0.1:0', services: [bindService(service.definition, service.implementation)] });
    grpc = createGrpcClient(MaskingServiceService, { address: `127.0.0.1:${server.port}`, serviceName: 'masking' });
  });
  afterAll(async () => {
    grpc.close();
    await server.close(100);
  });

  it('masks a streamed body end to end', async () => {
    const body = Buffer.from(`${'filler '.repeat(20_000)}${answer}${'tail '.repeat(1000)}`);
    const { data, last } = await collect(grpc.client.mask(messages('default', body, 16 * 1024)));
    expect(data).toBe(`${'filler '.repeat(20_000)}${masked}${'tail '.repeat(1000)}`);
    expect(last?.masked.map((value) => value.rule)).toEqual(['field:Credentials.SecretAccessKey', 'field:Credentials.SessionToken', 'detector:aws-access-key-id']);
  });

  it('carries errors back as AirlockErrors', async () => {
    await expect(collect(grpc.client.mask(messages('strict', Buffer.from('x'), 1)))).rejects.toMatchObject({ code: 'InvalidRequest' });
  });
});
