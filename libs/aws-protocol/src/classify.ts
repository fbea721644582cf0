import { catalogueService, servicesBySigningName, type CatalogueOperation, type CatalogueService } from '@airlock/aws-catalogue';
import { AirlockError } from '@airlock/errors';
import { buildArns } from './arn.js';
import type { CallDescription } from './call.js';
import { matchRoute } from './rest.js';
import { pathStyle } from './s3.js';
import { serviceById, type ServiceInfo } from './services.js';
import { headerValue, queryValue, sanitize, type Headers, type Query } from './values.js';

export { headerValue } from './values.js';

export interface RequestFacts {
  method: string;
  /** Decoded path without the query. */
  path: string;
  /** The path as received (percent-encoded); when given, REST routing uses it and decodes each label itself. */
  rawPath?: string | undefined;
  query: Query;
  headers: Headers;
  /** Parsed form body (query and ec2 protocols) or top-level JSON members (json protocols), when read. */
  bodyParameters?: Record<string, string> | undefined;
  /** The whole body when it was read (json and rest-json bodies name resources in lists and maps too). */
  body?: Uint8Array | undefined;
  partition: string;
  /** The region the client signed for: the region of the resources' ARNs. */
  region?: string | undefined;
  /** The account of the role the call runs as: the account of the resources' ARNs. */
  account?: string | undefined;
  /** Labels in front of the edge's host name (see splitVirtualHost): an S3 bucket, S3 Control's account id. */
  hostPrefix?: string | undefined;
}

const maxJsonBody = 16 * 1024 * 1024;
const operationName = /^[A-Za-z0-9]{1,128}$/;

/**
 * Names the operation, IAM action, resources and parameters of one request, for all five AWS protocols, from the
 * catalogue generated from the AWS service models. Never throws: whatever it cannot name is `known: false`.
 */
export function classify(service: ServiceInfo, facts: RequestFacts): CallDescription {
  try {
    return describe(service, facts) ?? unknownCall(service);
  } catch {
    return unknownCall(service);
  }
}

function describe(service: ServiceInfo, facts: RequestFacts): CallDescription | undefined {
  const entry = catalogueService(service.id);
  if (!entry) return undefined;
  switch (entry.p) {
    case 'rest-json':
    case 'rest-xml':
      return describeRest(service, entry, facts);
    case 'query':
    case 'ec2':
      return describeQuery(service, entry, facts);
    case 'json': {
      const target = headerValue(facts.headers, 'x-amz-target');
      if (target === undefined && entry.qc) return describeQuery(service, entry, facts);
      return describeJson(service, entry, facts, target);
    }
    default:
      return undefined;
  }
}

interface Named {
  service: ServiceInfo;
  entry: CatalogueService;
  name: string;
  op: CatalogueOperation;
}

function describeRest(service: ServiceInfo, entry: CatalogueService, facts: RequestFacts): CallDescription | undefined {
  const raw = typeof facts.rawPath === 'string';
  let path = raw ? (facts.rawPath as string) : facts.path;
  if (typeof path !== 'string') return undefined;
  if (service.id === 's3' && facts.hostPrefix) path = pathStyle(facts.hostPrefix, path);
  const match = matchRoute(service.id, entry, String(facts.method), path, facts.query, facts.headers, raw);
  if (!match) return undefined;
  const op = operationOf(entry, match.operation);
  if (!op) return undefined;
  const body = entry.p === 'rest-json' && !op.pl ? jsonObject(facts.body) : undefined;
  const values = new Map<string, string[]>();
  const parameters: Record<string, string> = {};
  for (const [name, location, wire, kind] of op.m ?? []) {
    const key = wire || name;
    let found: string[] | undefined;
    if (location === 'u') found = Object.hasOwn(match.labels, key) ? [match.labels[key] as string] : undefined;
    else if (location === 'q') found = single(queryValue(facts.query, key));
    else if (location === 'h') found = single(headerValue(facts.headers, key.toLowerCase()));
    else if (body) found = jsonValues(body[key], kind);
    if (found && found.length > 0) values.set(name, found);
  }
  for (const [label, value] of Object.entries(match.labels)) parameters[memberOfLabel(op, label)] = value;
  for (const [key, value] of Object.entries(facts.query)) {
    if (/^x-amz-/i.test(key) || key === 'x-id' || Object.hasOwn(parameters, key)) continue;
    parameters[key] = Array.isArray(value) ? String(value[0] ?? '') : String(value);
  }
  if (body) Object.assign(parameters, scalars(body, parameters));
  return named({ service, entry, name: match.operation, op }, facts, values, parameters);
}

function describeQuery(service: ServiceInfo, entry: CatalogueService, facts: RequestFacts): CallDescription | undefined {
  const params: Record<string, string> = {};
  for (const [key, value] of Object.entries(facts.query)) params[key] = Array.isArray(value) ? String(value[0] ?? '') : String(value);
  Object.assign(params, facts.body !== undefined && facts.bodyParameters === undefined ? formParameters(facts.body) : facts.bodyParameters);
  const action = params.Action;
  if (typeof action !== 'string' || !operationName.test(action)) return undefined;
  const found = findOperation(service, entry, action, (candidate) => candidate.p === entry.p || (entry.qc === 1 && candidate.qc === 1), params.Version);
  if (!found) return undefined;
  const { Action: _action, Version: _version, ...rest } = params;
  const values = new Map<string, string[]>();
  for (const [name, location, wire, kind] of found.op.m ?? []) {
    if (location !== 'b') continue;
    const key = wire || name;
    const list = kind === 1 ? listValues(rest, key) : single(rest[key]);
    if (list && list.length > 0) values.set(name, list);
  }
  return named(found, facts, values, rest);
}

function describeJson(service: ServiceInfo, entry: CatalogueService, facts: RequestFacts, target: string | undefined): CallDescription | undefined {
  if (!target) return undefined;
  const dot = target.lastIndexOf('.');
  const prefix = target.slice(0, Math.max(dot, 0));
  const operation = target.slice(dot + 1);
  if (!operationName.test(operation)) return undefined;
  const found = findOperation(service, entry, operation, (candidate) => candidate.p === 'json' && candidate.tp === prefix);
  if (!found) return undefined;
  const body = facts.body !== undefined ? jsonObject(facts.body) : undefined;
  const values = new Map<string, string[]>();
  for (const [name, location, wire, kind] of found.op.m ?? []) {
    if (location !== 'b') continue;
    const key = wire || name;
    const list = body ? jsonValues(body[key], kind) : single(facts.bodyParameters?.[key]);
    if (list && list.length > 0) values.set(name, list);
  }
  const parameters = body ? scalars(body, {}) : { ...facts.bodyParameters };
  return named(found, facts, values, parameters);
}

/**
 * The operation in this service, or in a sibling signed with the same name at the same endpoint (ELB v1 and v2 told
 * apart by Version; events and eventbridge; streams.dynamodb by its target prefix).
 */
function findOperation(service: ServiceInfo, entry: CatalogueService, name: string, sibling: (candidate: CatalogueService) => boolean, version?: string): Named | undefined {
  const own = sibling(entry) ? operationOf(entry, name) : undefined;
  const candidates: Named[] = [];
  if (own) candidates.push({ service, entry, name, op: own });
  for (const id of servicesBySigningName(service.signingName)) {
    if (id === service.id) continue;
    const other = catalogueService(id);
    const info = serviceById(id);
    if (!other || !info || other.ep !== entry.ep || !sibling(other)) continue;
    const op = operationOf(other, name);
    if (op) candidates.push({ service: info, entry: other, name, op });
  }
  if (version !== undefined) {
    const byVersion = candidates.find((candidate) => candidate.entry.v === version);
    if (byVersion) return byVersion;
  }
  return candidates[0];
}

function named(found: Named, facts: RequestFacts, values: Map<string, string[]>, parameters: Record<string, string>): CallDescription {
  const { service, entry, name, op } = found;
  const versioned = op.va !== undefined && queryValue(facts.query, 'versionId') !== undefined;
  const action = versioned ? (op.va as string) : (op.a ?? `${service.iamPrefix}:${name}`);
  const account = /^\d{12}$/.test(String(facts.account)) ? String(facts.account) : '';
  const region = /^[a-z0-9-]{1,32}$/.test(String(facts.region)) ? String(facts.region) : '';
  const hostPrefix = resolveHostPrefix(op, values, facts.hostPrefix);
  const templates = (op.t ?? []).map((index) => entry.arn?.[index]).filter((template): template is string => template !== undefined);
  const resources = buildArns(templates, { partition: String(facts.partition), region, account, values });
  // Members the catalogue keeps that already hold an ARN (URI labels of services without ARN rules) name resources too.
  for (const [member, list] of values) {
    if (op.m?.some(([name, location]) => name === member && location === 'u')) for (const value of list) if (value.startsWith('arn:') && !resources.includes(value)) resources.push(value);
  }
  const sensitive = new Set((op.si ?? []).map((entry) => entry.replace(/^[uqh]:/, '')));
  for (const [memberName, location, wire] of op.m ?? []) if (location === 'u' && sensitive.has(wire || memberName)) sensitive.add(memberName);
  const call: CallDescription = {
    service: service.id,
    operation: name,
    action,
    resources,
    parameters: sanitize(parameters, sensitive),
    known: true,
    readOnly: op.r === 1,
  };
  if (hostPrefix) call.hostPrefix = hostPrefix;
  return call;
}

// DNS labels, each followed by a dot, or ending in a hyphen that joins the endpoint prefix ("data-" + "servicediscovery").
const hostLabels = /^(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)*(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.|[a-z0-9][a-z0-9-]{0,61}-)$/;

/** The operation's host prefix filled in ("{AccountId}." → "123456789012."), or undefined when it is not valid DNS. */
function resolveHostPrefix(op: CatalogueOperation, values: Map<string, string[]>, requestPrefix: string | undefined): string | undefined {
  if (!op.hp) return undefined;
  const labels = [...op.hp.matchAll(/\{([A-Za-z0-9]+)\}/g)].map((match) => match[1] as string);
  // A lone label may come from the Host the client addressed, when no member carries it.
  if (labels.length === 1 && requestPrefix && !values.has(labels[0] as string) && op.hp === `{${labels[0]}}.`) values.set(labels[0] as string, [requestPrefix]);
  const filled = op.hp.replace(/\{([A-Za-z0-9]+)\}/g, (_raw, name: string) => values.get(name)?.[0] ?? '');
  const lower = filled.toLowerCase();
  return lower.length <= 253 && hostLabels.test(lower) ? lower : undefined;
}

function operationOf(entry: CatalogueService, name: string): CatalogueOperation | undefined {
  return Object.hasOwn(entry.ops, name) ? entry.ops[name] : undefined;
}

function memberOfLabel(op: CatalogueOperation, label: string): string {
  for (const [name, location, wire] of op.m ?? []) if (location === 'u' && (wire || name) === label) return name;
  return label;
}

function unknownCall(service: ServiceInfo): CallDescription {
  return { service: service.id, operation: 'Unknown', action: `${service.iamPrefix}:Unknown`, resources: [], parameters: {}, known: false, readOnly: false };
}

function single(value: string | undefined): string[] | undefined {
  return typeof value === 'string' && value !== '' ? [value] : undefined;
}

/** `Name.1`, `Name.2`… (or `Name.member.1`…; the wire name carries the `.member`), in index order. */
function listValues(params: Record<string, string>, prefix: string): string[] {
  const found: [number, string][] = [];
  for (const [key, value] of Object.entries(params)) {
    if (!key.startsWith(`${prefix}.`)) continue;
    const index = key.slice(prefix.length + 1);
    if (/^\d{1,6}$/.test(index)) found.push([Number(index), value]);
  }
  return found.sort((a, b) => a[0] - b[0]).map(([, value]) => value);
}

function jsonObject(body: Uint8Array | undefined): Record<string, unknown> | undefined {
  if (!body || body.length === 0 || body.length > maxJsonBody) return undefined;
  try {
    const parsed: unknown = JSON.parse(Buffer.from(body.buffer, body.byteOffset, body.byteLength).toString('utf8'));
    return parsed && typeof parsed === 'object' && !Array.isArray(parsed) ? (parsed as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

function jsonValues(value: unknown, kind: number | undefined): string[] | undefined {
  if (typeof value === 'string') return value === '' ? undefined : [value];
  if (typeof value === 'number' || typeof value === 'boolean') return [String(value)];
  if (Array.isArray(value)) return value.filter((item) => typeof item === 'string' || typeof item === 'number').map(String);
  if (kind === 2 && value && typeof value === 'object') return Object.keys(value);
  return undefined;
}

function scalars(body: Record<string, unknown>, existing: Record<string, string>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(body)) {
    if (Object.hasOwn(existing, name)) continue;
    if (typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean') out[name] = String(value);
  }
  return out;
}

function formParameters(body: Uint8Array): Record<string, string> {
  const out: Record<string, string> = {};
  if (body.length > maxJsonBody) return out;
  for (const [key, value] of new URLSearchParams(Buffer.from(body.buffer, body.byteOffset, body.byteLength).toString('utf8'))) if (!Object.hasOwn(out, key)) out[key] = value;
  return out;
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
