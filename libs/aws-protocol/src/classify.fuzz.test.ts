import { catalogue } from '@airlock/aws-catalogue';
import { AirlockError } from '@airlock/errors';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { classify, type RequestFacts } from './classify.js';
import { resolveUpstream, type Partition } from './endpoints.js';
import { splitVirtualHost } from './s3.js';
import { serviceById, serviceFor } from './services.js';

// Properties over arbitrary requests: the classifier never throws and always answers in shape, and whatever a request
// says, the upstream is a host Airlock derived itself (an AWS endpoint of the service in an allowed region).

const services = Object.entries(catalogue().services);
const serviceIds = services.map(([id]) => id);
const signingNames = [...new Set(services.map(([, service]) => service.sig))];
const templates = services.flatMap(([id, service]) => Object.values(service.ops).flatMap((op) => (op.h ? [[id, op.h] as const] : [])));
const targets = services.flatMap(([, service]) => (service.tp ? Object.keys(service.ops).slice(0, 20).map((name) => `${service.tp}.${name}`) : []));
const operationNames = services.flatMap(([, service]) => Object.keys(service.ops).slice(0, 10));

const nasty = fc.constantFrom('', '/', '//', '..', '%', '%2F', '%ZZ', '%00', '{', '}', '+', '?', '#', '__proto__', 'constructor', 'é', '\u0000', 'arn:aws:s3:::x', 'a'.repeat(300));
const text = fc.oneof(fc.string({ maxLength: 40 }), fc.string({ unit: 'binary', maxLength: 20 }), nasty);
const segment = fc.oneof(text, fc.stringMatching(/^[a-z0-9.-]{1,20}$/));

/** A path built from a real REST template with random labels, or random segments. */
const path = fc.oneof(
  fc.tuple(fc.constantFrom(...templates), fc.array(segment, { maxLength: 4 })).map(([[, binding], fill]) => {
    let index = 0;
    const uri = binding.slice(binding.indexOf(' ') + 1).split('?')[0] as string;
    return uri.replace(/\{[^}]+\}/g, () => encodeURIComponent(fill[index++ % Math.max(fill.length, 1)] ?? 'x') || 'x');
  }),
  fc.array(segment, { maxLength: 6 }).map((parts) => `/${parts.join('/')}`),
  text,
);

const queryKey = fc.oneof(text, fc.constantFrom('Action', 'Version', 'versionId', 'uploads', 'uploadId', 'partNumber', 'list-type', 'tagging', 'x-id', 'X-Amz-Signature', 'InstanceId.1', 'Names.member.1'));
const queryValue = fc.oneof(text, fc.constantFrom(...operationNames), fc.array(text, { maxLength: 3 }));
const query = fc.dictionary(queryKey, queryValue, { maxKeys: 6 });

const headerName = fc.constantFrom('x-amz-target', 'x-amz-copy-source', 'x-amz-account-id', 'content-type', 'host', 'x-amz-request-route', 'authorization', 'x-random');
const headerValue = fc.oneof(text, fc.constantFrom(...targets), fc.constant('application/x-www-form-urlencoded'), fc.array(text, { maxLength: 2 }), fc.constant(undefined));
const headers = fc.dictionary(headerName, headerValue, { maxKeys: 5 });

const json = fc.jsonValue({ maxDepth: 3 });
const body = fc.oneof(
  fc.constant(undefined),
  fc.uint8Array({ maxLength: 64 }),
  json.map((value) => Buffer.from(JSON.stringify(value) ?? '')),
  fc.dictionary(fc.oneof(text, fc.constantFrom('TableName', 'RequestItems', 'QueueUrl', 'FunctionName', 'Names', 'KeyId', 'cluster', 'services')), json, { maxKeys: 5 }).map((value) => Buffer.from(JSON.stringify(value))),
);
const bodyParameters = fc.option(fc.dictionary(queryKey, text, { maxKeys: 6 }), { nil: undefined });

const facts: fc.Arbitrary<RequestFacts> = fc.record({
  method: fc.oneof(fc.constantFrom('GET', 'PUT', 'POST', 'DELETE', 'HEAD', 'PATCH', 'OPTIONS', 'get'), text),
  path,
  rawPath: fc.option(path, { nil: undefined }),
  query,
  headers,
  bodyParameters,
  body,
  partition: fc.constantFrom('aws', 'aws-cn', 'aws-us-gov', 'evil'),
  region: fc.option(fc.oneof(fc.constantFrom('us-east-1', 'eu-west-1', 'cn-north-1'), text), { nil: undefined }),
  account: fc.option(fc.oneof(fc.constant('111122223333'), text), { nil: undefined }),
  hostPrefix: fc.option(fc.oneof(segment, fc.constant('111122223333')), { nil: undefined }),
});

/** Requests shaped for one service (its own routes, targets and actions), mixed with arbitrary ones. */
function requestFor(id: string): fc.Arbitrary<RequestFacts> {
  const service = catalogue().services[id]!;
  const names = Object.keys(service.ops);
  const own = Object.values(service.ops).flatMap((op) => (op.h ? [op.h] : []));
  if (own.length > 0) {
    const shaped = fc.tuple(fc.constantFrom(...own), fc.array(segment, { maxLength: 4 })).map(([binding, fill]) => {
      let index = 0;
      const [method, uri] = binding.split(' ') as [string, string];
      const [pathPart, queryPart] = uri.split('?') as [string, string | undefined];
      const filled = pathPart.replace(/\{[^}]+\}/g, () => encodeURIComponent(fill[index++ % Math.max(fill.length, 1)] ?? 'x') || 'x');
      return { method, rawPath: filled, query: Object.fromEntries(new URLSearchParams(queryPart ?? '')) };
    });
    return fc.tuple(facts, shaped).map(([base, shape]) => ({ ...base, ...shape, path: shape.rawPath, query: { ...base.query, ...shape.query } }));
  }
  const action = fc.constantFrom(...names);
  return fc.tuple(facts, action, fc.boolean()).map(([base, name, viaTarget]) =>
    viaTarget && service.tp
      ? { ...base, headers: { ...base.headers, 'x-amz-target': `${service.tp}.${name}` } }
      : { ...base, bodyParameters: { ...base.bodyParameters, Action: name, Version: service.v } },
  );
}

const anyRequest = fc.constantFrom(...serviceIds).chain((id) => fc.tuple(fc.constant(id), fc.oneof(requestFor(id), facts)));

describe('classifier properties', () => {
  it('never throws and always answers in shape, for any service and any request', () => {
    let known = 0;
    let prefixed = 0;
    fc.assert(
      fc.property(anyRequest, ([id, request]) => {
        const service = serviceById(id)!;
        const call = classify(service, request);
        expect(typeof call.operation).toBe('string');
        expect(typeof call.action).toBe('string');
        expect(call.action).toMatch(/^[a-z0-9-]+:[A-Za-z0-9]+$/);
        expect(typeof call.known).toBe('boolean');
        expect(typeof call.readOnly).toBe('boolean');
        expect(call.service === id || serviceById(call.service)?.signingName === service.signingName).toBe(true);
        for (const resource of call.resources) expect(typeof resource).toBe('string');
        for (const value of Object.values(call.parameters)) expect(typeof value).toBe('string');
        if (!call.known) expect(call).toMatchObject({ operation: 'Unknown', resources: [] });
        else known += 1;
        if (call.hostPrefix !== undefined) {
          prefixed += 1;
          expect(call.hostPrefix).toMatch(/^(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)*(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.|[a-z0-9][a-z0-9-]{0,61}-)$/);
        }
      }),
      { numRuns: 3000 },
    );
    // The generators reach real operations too, not only the unknown path.
    expect(known).toBeGreaterThan(300);
    expect(prefixed).toBeGreaterThan(0);
  });

  it('never throws when telling services apart by a request head', () => {
    fc.assert(
      fc.property(fc.oneof(fc.constantFrom(...signingNames), text), fc.string(), path, fc.string(), headers, fc.option(segment, { nil: undefined }), (signingName, method, rawPath, rawQuery, head, hostPrefix) => {
        const service = serviceFor(signingName, { method, rawPath, rawQuery, headers: head, hostPrefix });
        if (service) expect(service.signingName).toBe(signingName);
      }),
      { numRuns: 2000 },
    );
  });

  it('splits only DNS labels off a Host, and only in front of an edge host', () => {
    const edges = ['localhost:4566', 'airlock.example.com', '127.0.0.1:4566'];
    fc.assert(
      fc.property(fc.oneof(text, fc.tuple(segment, fc.constantFrom(...edges)).map(([prefix, edge]) => `${prefix}.${edge}`)), (host) => {
        const split = splitVirtualHost(host, edges);
        if (!split) return;
        expect(edges).toContain(split.edgeHost);
        if (split.prefix === undefined) expect(host.toLowerCase()).toBe(split.edgeHost);
        else {
          expect(`${split.prefix}.${split.edgeHost}`).toBe(host.toLowerCase());
          expect(split.prefix).toMatch(/^[a-z0-9][a-z0-9.-]*$/);
          expect(split.edgeHost).not.toMatch(/^\d/);
        }
      }),
      { numRuns: 2000 },
    );
  });

  it('sends every call to a host derived from service and region, within the allowlist, whatever the request says', () => {
    const suffixes: Record<Partition, string[]> = { aws: ['amazonaws.com', 'api.aws'], 'aws-cn': ['amazonaws.com.cn', 'api.amazonwebservices.com.cn'], 'aws-us-gov': ['amazonaws.com', 'api.aws'] };
    const allowed = ['eu-west-1', 'us-east-1'];
    fc.assert(
      fc.property(
        anyRequest,
        fc.oneof(fc.constantFrom('us-east-1', 'eu-west-1', 'eu-central-1', 'cn-north-1', 'us-gov-west-1'), text),
        fc.constantFrom<Partition>('aws', 'aws-cn', 'aws-us-gov'),
        fc.boolean(),
        fc.record({ fips: fc.boolean(), dualStack: fc.boolean() }),
        ([id, request], region, partition, restrict, variants) => {
          const service = serviceById(id)!;
          const call = classify(service, request);
          let target;
          try {
            target = resolveUpstream(service, region, { partition, allowedRegions: restrict ? allowed : [], ...variants }, call);
          } catch (error) {
            expect(error).toBeInstanceOf(AirlockError);
            expect((error as AirlockError).code).toBe('EndpointNotAllowed');
            return;
          }
          const { url } = target;
          expect(url.protocol).toBe('https:');
          expect(url.port).toBe('');
          expect(url.username + url.password).toBe('');
          expect(url.pathname).toBe('/');
          const global = service.globalEndpoints?.[partition];
          if (global) {
            expect([global[0], global[0].replace(`${service.endpointPrefix}.`, `${service.endpointPrefix}-fips.`)]).toContain(url.hostname.slice((call.hostPrefix ?? '').length));
          } else {
            if (restrict) expect(allowed).toContain(region);
            const rest = url.hostname.slice((call.hostPrefix ?? '').length);
            expect(suffixes[partition].some((suffix) => rest.endsWith(`.${region}.${suffix}`))).toBe(true);
            const front = rest.slice(0, rest.indexOf(`.${region}.`));
            const prefix = service.endpointPrefix;
            expect([prefix, `${prefix}-fips`, `${prefix}.dualstack`, `${prefix}-fips.dualstack`, 'ecr-fips']).toContain(front);
          }
        },
      ),
      { numRuns: 2000 },
    );
  });
});
