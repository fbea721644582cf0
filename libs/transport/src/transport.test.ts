import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AirlockError } from '@airlock/errors';
import type { MethodDefinition, ServiceClient, ServiceImplementation } from './definition.js';
import { createGrpcClient, type ClosableClient } from './grpc-client.js';
import { bindService, startGrpcServer, type RunningGrpcServer } from './grpc-server.js';
import { bindInProcess } from './in-process.js';

interface Text {
  text: string;
}

// A service shaped like ts-proto's grpc-js output, with JSON standing in for protobuf.
const json = <T>(): Pick<MethodDefinition<T, T>, 'requestSerialize' | 'requestDeserialize' | 'responseSerialize' | 'responseDeserialize'> => ({
  requestSerialize: (value: T) => Buffer.from(JSON.stringify(value)),
  requestDeserialize: (bytes: Buffer) => JSON.parse(bytes.toString()) as T,
  responseSerialize: (value: T) => Buffer.from(JSON.stringify(value)),
  responseDeserialize: (bytes: Buffer) => JSON.parse(bytes.toString()) as T,
});
const EchoService = {
  shout: { path: '/test.Echo/Shout', requestStream: false as const, responseStream: false as const, ...json<Text>() },
  split: { path: '/test.Echo/Split', requestStream: true as const, responseStream: true as const, ...json<Text>() },
};

const implementation: ServiceImplementation<typeof EchoService> = {
  async shout(request) {
    if (request.text === 'forbidden') throw new AirlockError('AccessDenied', 'not this one', { details: { policyId: 'p1' } });
    if (request.text === 'crash') throw new Error('internal detail that must not leak');
    return { text: request.text.toUpperCase() };
  },
  async *split(requests) {
    let count = 0;
    for await (const request of requests) {
      count++;
      yield { text: request.text.split('').reverse().join('') };
    }
    // Written after the last request: the shape of a masking stream's final summary.
    yield { text: `done after ${count}` };
  },
};

async function* texts(...values: string[]): AsyncIterable<Text> {
  for (const text of values) yield { text };
}

async function collect(stream: AsyncIterable<Text>): Promise<string[]> {
  const out: string[] = [];
  for await (const item of stream) out.push(item.text);
  return out;
}

let server: RunningGrpcServer;
let grpc: ClosableClient<typeof EchoService>;

beforeAll(async () => {
  server = await startGrpcServer({ listen: '127.0.0.1:0', services: [bindService(EchoService, implementation)] });
  grpc = createGrpcClient(EchoService, { address: `127.0.0.1:${server.port}`, serviceName: 'echo', defaultTimeoutMs: 2_000 });
});

afterAll(async () => {
  grpc.close();
  await server.close();
});

describe.each([
  ['over gRPC', () => grpc.client],
  ['in process', () => bindInProcess(EchoService, implementation)],
] as [string, () => ServiceClient<typeof EchoService>][])('a service bound %s', (_label, client) => {
  it('answers unary calls', async () => {
    expect(await client().shout({ text: 'hi' })).toEqual({ text: 'HI' });
  });

  it('streams both ways, including answers written after the last request', async () => {
    expect(await collect(client().split(texts('abc', 'de')))).toEqual(['cba', 'ed', 'done after 2']);
  });

  it('carries an AirlockError with its code and details', async () => {
    await expect(client().shout({ text: 'forbidden' })).rejects.toMatchObject({ code: 'AccessDenied', message: 'not this one', details: { policyId: 'p1' } });
  });

  it('turns an unexpected failure into Internal without its detail', async () => {
    const error = await client().shout({ text: 'crash' }).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(AirlockError);
    expect(error).toMatchObject({ code: 'Internal' });
    expect((error as AirlockError).message).not.toContain('internal detail');
  });
});

describe('a gRPC client whose server is gone', () => {
  it('fails closed with DependencyUnavailable naming the service', async () => {
    const closed = await startGrpcServer({ listen: '127.0.0.1:0', services: [bindService(EchoService, implementation)] });
    const port = closed.port;
    await closed.close();
    const orphan = createGrpcClient(EchoService, { address: `127.0.0.1:${port}`, serviceName: 'echo', defaultTimeoutMs: 500 });
    await expect(orphan.client.shout({ text: 'anyone?' })).rejects.toMatchObject({ code: 'DependencyUnavailable', message: expect.stringContaining('echo') });
    orphan.close();
  });
});
