import { AirlockError } from '@airlock/errors';
import type { CallDescription } from './call.js';
import { describeS3Call } from './s3.js';
import type { ServiceInfo } from './services.js';

export interface RequestFacts {
  method: string;
  /** Decoded path without the query. */
  path: string;
  query: Record<string, string | string[]>;
  headers: Record<string, string | string[] | undefined>;
  /** Parsed form body (query and ec2 protocols) or top-level JSON members (json protocols), when read. */
  bodyParameters?: Record<string, string> | undefined;
  partition: string;
}

const maxParameterLength = 256;
// Parameter names whose values must not reach policy input, events or recordings.
const secretParameter = /secret|password|passphrase|token|privatekey|keymaterial|credential|ciphertext|plaintext/i;

/** Names the operation, IAM action, resources and parameters of one request. */
export function classify(service: ServiceInfo, facts: RequestFacts): CallDescription {
  switch (service.protocol) {
    case 'rest-xml':
      if (service.signingName === 's3') return describeS3Call(facts.method, facts.path, facts.query, facts.headers, facts.partition);
      return unknownCall(service);
    case 'query':
    case 'ec2': {
      const params = { ...stringQuery(facts.query), ...facts.bodyParameters };
      const operation = params.Action;
      if (!operation || !/^[A-Za-z0-9]+$/.test(operation)) return unknownCall(service);
      const { Action: _action, Version: _version, ...rest } = params;
      return {
        operation,
        action: `${service.iamPrefix}:${operation}`,
        resources: queryResources(service, operation, rest),
        parameters: sanitize(rest),
        known: true,
      };
    }
    case 'json': {
      const target = headerValue(facts.headers, 'x-amz-target');
      const operation = target?.split('.').pop();
      if (!operation || !/^[A-Za-z0-9]+$/.test(operation)) return unknownCall(service);
      return { operation, action: `${service.iamPrefix}:${operation}`, resources: [], parameters: sanitize(facts.bodyParameters ?? {}), known: true };
    }
    case 'rest-json':
      return unknownCall(service);
  }
}

function unknownCall(service: ServiceInfo): CallDescription {
  return { operation: 'Unknown', action: `${service.iamPrefix}:Unknown`, resources: [], parameters: {}, known: false };
}

function queryResources(service: ServiceInfo, operation: string, params: Record<string, string>): string[] {
  if (service.signingName === 'sts' && operation === 'AssumeRole' && params.RoleArn) return [params.RoleArn];
  return [];
}

function sanitize(params: Record<string, string>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(params)) {
    out[name] = secretParameter.test(name) ? '[MASKED]' : value.slice(0, maxParameterLength);
  }
  return out;
}

function stringQuery(query: Record<string, string | string[]>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(query)) out[name] = Array.isArray(value) ? (value[0] ?? '') : value;
  return out;
}

export function headerValue(headers: Record<string, string | string[] | undefined>, name: string): string | undefined {
  const value = headers[name];
  return Array.isArray(value) ? value[0] : value;
}

/** Top-level scalar members of a JSON body, for policy parameters; a body that is not JSON is refused. */
export function jsonBodyParameters(body: Buffer): Record<string, string> {
  if (body.length === 0) return {};
  let parsed: unknown;
  try {
    parsed = JSON.parse(body.toString('utf8'));
  } catch {
    throw new AirlockError('InvalidRequest', 'The request body is not valid JSON.');
  }
  const out: Record<string, string> = {};
  if (parsed && typeof parsed === 'object' && !Array.isArray(parsed)) {
    for (const [name, value] of Object.entries(parsed)) {
      if (typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean') out[name] = String(value);
    }
  }
  return out;
}

/** Parameters of an application/x-www-form-urlencoded body (query and ec2 protocols). */
export function formBodyParameters(body: Buffer): Record<string, string> {
  return Object.fromEntries(new URLSearchParams(body.toString('utf8')));
}
