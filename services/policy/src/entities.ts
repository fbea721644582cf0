import { isIP } from 'node:net';
import type { AwsCall, Principal } from '@airlock/contracts';
import { actionInfo } from './access-levels.js';
import type { CedarValueJson, EntityJson, EntityUidJson } from './cedar.js';

/**
 * Airlock's Cedar entity model (namespace `Airlock`), described to Cedar by the schema in schema.ts:
 *
 * - principal `Airlock::Principal::"<issuer>#<subject>"` { subject, issuer, name, kind ("people" | "workloads", from the
 *   issuer's configuration; "" when unknown) }, member of `Airlock::Group::"<g>"` for each group in the token
 * - action `Airlock::Action::"s3:PutObject"` in `"s3:write"`, which is in `"s3:*"` and `"write"`, all in `"*"`;
 *   destroying writes also in `"destroy"`, credential-minting calls in `"credentials"` (access-levels.ts); an action
 *   the catalogue does not know is only in its service's `"<service>:*"`, so no level or group permit matches it
 * - resource `Airlock::Resource::"<arn>"` { arn, partition, service, region, account, type } with its tags when known;
 *   `Airlock::Resource::"*"` when the call names no resource (ListBuckets, DescribeInstances without ids);
 *   for the STS facade's role check (`sts:AssumeRoleWithWebIdentity`) the resource is `Airlock::Role::"<role arn>"`,
 *   with the same attributes (type "role")
 * - context { time, role, region, service, operation, operationKnown, dryRun, parameters (an entity whose tags are the
 *   request's parameters: `context.parameters.hasTag("Bucket") && context.parameters.getTag("Bucket") == "logs"`),
 *   sourceIp?, sessionAgeSeconds? }, read from the request context strings the edge sends (`requestContextKeys`)
 */
export const namespace = 'Airlock';
export const entityTypes = {
  principal: `${namespace}::Principal`,
  group: `${namespace}::Group`,
  action: `${namespace}::Action`,
  resource: `${namespace}::Resource`,
  role: `${namespace}::Role`,
  parameters: `${namespace}::Parameters`,
} as const;
const types = entityTypes;

/** The request context keys Airlock reads (DecideRequest.context); any other key is ignored. */
export const requestContextKeys = {
  /** RFC 3339 time of the request; the policy service's clock when absent. */
  time: 'time',
  /** The client's address, IPv4 or IPv6. */
  sourceIp: 'sourceIp',
  /** Whole seconds since the Airlock session was issued. */
  sessionAgeSeconds: 'sessionAgeSeconds',
  /** "false" when Airlock could not name the operation. */
  operationKnown: 'operationKnown',
  /** "people" or "workloads": the kind of the issuer that vouched for the principal. */
  principalKind: 'principalKind',
} as const;

/** Context attributes whose value changes while the request stays the same: a decision that reads them is not reused. */
export const timeVaryingContext: ReadonlySet<string> = new Set(['time', 'sessionAgeSeconds']);

/** True when a policy (Cedar's JSON form) reads a time-varying context attribute (`context.time`, `context has time`). */
export function readsTimeVaryingContext(json: unknown): boolean {
  if (Array.isArray(json)) return json.some(readsTimeVaryingContext);
  if (typeof json !== 'object' || json === null) return false;
  for (const [key, value] of Object.entries(json)) {
    if ((key === '.' || key === 'has') && typeof value === 'object' && value !== null) {
      const { left, attr } = value as { left?: unknown; attr?: unknown };
      if (typeof attr === 'string' && timeVaryingContext.has(attr) && (left as { Var?: unknown } | undefined)?.Var === 'context') return true;
    }
    if (readsTimeVaryingContext(value)) return true;
  }
  return false;
}

/** The action the STS facade asks about when a token holder wants a role. */
export const assumeRoleAction = 'sts:AssumeRoleWithWebIdentity';
/** Id of the resource that stands for "no particular resource". */
export const anyResourceId = '*';

export interface CedarRequest {
  principal: EntityUidJson;
  action: EntityUidJson;
  resource: EntityUidJson;
  context: Record<string, CedarValueJson>;
  entities: EntityJson[];
}

/** The resources a call is decided on, one Cedar request each. */
export function resourcesOf(call: AwsCall, action: string): { type: 'resource' | 'role'; id: string }[] {
  if (action === assumeRoleAction) {
    const role = call.resources[0] || call.roleArn;
    return [{ type: 'role', id: role || anyResourceId }];
  }
  const arns = [...new Set(call.resources.filter((arn) => arn !== ''))];
  return arns.length > 0 ? arns.map((id) => ({ type: 'resource', id })) : [{ type: 'resource', id: anyResourceId }];
}

export function principalId(principal: Principal): string {
  return `${principal.issuer}#${principal.subject}`;
}

export function buildRequest(
  principal: Principal,
  call: AwsCall,
  action: string,
  resource: { type: 'resource' | 'role'; id: string },
  requestContext: Readonly<Record<string, string>>,
  now: Date,
): CedarRequest {
  const principalUid = { type: types.principal, id: principalId(principal) };
  const actionUid = { type: types.action, id: action };
  const resourceUid = { type: types[resource.type], id: resource.id };
  const parametersUid = { type: types.parameters, id: 'request' };
  const entities: EntityJson[] = [
    {
      uid: principalUid,
      attrs: { subject: principal.subject, issuer: principal.issuer, name: principal.name, kind: requestContext[requestContextKeys.principalKind] ?? '' },
      parents: principal.groups.map((group) => ({ type: types.group, id: group })),
    },
    ...actionEntities(action),
    { uid: resourceUid, attrs: resourceAttributes(resource.id, call), parents: [], tags: {} },
    { uid: parametersUid, attrs: {}, parents: [], tags: safeRecord(call.parameters) },
  ];
  return { principal: principalUid, action: actionUid, resource: resourceUid, context: contextOf(call, requestContext, parametersUid, now), entities };
}

/** The typed context the schema declares, from the call and the request context strings (unknown keys ignored). */
function contextOf(call: AwsCall, requestContext: Readonly<Record<string, string>>, parameters: { type: string; id: string }, now: Date): Record<string, CedarValueJson> {
  const sentTime = requestContext[requestContextKeys.time];
  const time = sentTime !== undefined && !Number.isNaN(Date.parse(sentTime)) ? new Date(sentTime) : now;
  const sourceIp = requestContext[requestContextKeys.sourceIp]?.replace(/^::ffff:(?=\d+\.\d+\.\d+\.\d+$)/, '');
  const sessionAge = requestContext[requestContextKeys.sessionAgeSeconds];
  const context: Record<string, CedarValueJson> = {
    time: { __extn: { fn: 'datetime', arg: time.toISOString() } },
    role: call.roleArn,
    region: call.region,
    service: call.service,
    operation: call.operation,
    operationKnown: requestContext[requestContextKeys.operationKnown] !== 'false',
    dryRun: (call.parameters['DryRun'] ?? '').toLowerCase() === 'true',
    parameters: { __entity: parameters },
  };
  if (sourceIp !== undefined && isIP(sourceIp) !== 0) context['sourceIp'] = { __extn: { fn: 'ip', arg: sourceIp } };
  if (sessionAge !== undefined && /^\d{1,15}$/.test(sessionAge)) context['sessionAgeSeconds'] = Number(sessionAge);
  return context;
}

const knownActionEntities = new Map<string, EntityJson[]>();

/**
 * The action and the groups it is in, as the schema declares them. Built once per catalogue action; an action the
 * catalogue does not know (a client can send any name) is built each time, so odd input cannot grow the map.
 */
function actionEntities(action: string): EntityJson[] {
  const cached = knownActionEntities.get(action);
  if (cached) return cached;
  const service = action.slice(0, action.indexOf(':'));
  const entity = (id: string, parents: string[]): EntityJson => ({
    uid: { type: types.action, id },
    attrs: {},
    parents: parents.map((parent) => ({ type: types.action, id: parent })),
  });
  const serviceWide = `${service}:*`;
  const info = actionInfo(action);
  if (!info) return action === serviceWide ? [entity('*', []), entity(serviceWide, ['*'])] : [entity('*', []), entity(serviceWide, ['*']), entity(action, [serviceWide])];
  const serviceLevel = `${service}:${info.level}`;
  const chain = [
    entity('*', []),
    entity(serviceWide, ['*']),
    entity(info.level, ['*']),
    entity(serviceLevel, [serviceWide, info.level]),
    ...info.groups.map((group) => entity(group, ['*'])),
    entity(action, [serviceLevel, ...info.groups]),
  ];
  knownActionEntities.set(action, chain);
  return chain;
}

interface ArnParts {
  partition: string;
  service: string;
  region: string;
  account: string;
  /** What follows the account: `instance/i-0abc`, `logs/key`, `my-queue`. */
  path: string;
}

function arnParts(arn: string): ArnParts | undefined {
  const [prefix, partition = '', service = '', region = '', account = '', ...rest] = arn.split(':');
  if (prefix !== 'arn' || rest.length === 0) return undefined;
  return { partition, service, region, account, path: rest.join(':') };
}

/**
 * arn:partition:service:region:account:resource. The type is the resource part's first segment (`instance` of
 * `instance/i-0abc`, `function` of `function:f`); S3's ARNs name none, so a bucket is `bucket` and a key `object`.
 */
function resourceAttributes(id: string, call: AwsCall): Record<string, CedarValueJson> {
  const parts = id === anyResourceId ? undefined : arnParts(id);
  if (!parts) return { arn: id, partition: '', service: call.service, region: call.region, account: '', type: '' };
  const separator = parts.path.search(/[/:]/);
  const type = parts.service === 's3' ? (separator === -1 ? 'bucket' : 'object') : separator === -1 ? '' : parts.path.slice(0, separator);
  return { arn: id, partition: parts.partition, service: parts.service, region: parts.region, account: parts.account, type };
}

/**
 * Cedar's JSON reads records with a `__entity` or `__extn` key as entity references or extension values; keys like
 * that cannot come from AWS parameter names, so dropping them keeps odd input from changing what a value means.
 */
function safeRecord(values: Readonly<Record<string, string>>): Record<string, CedarValueJson> {
  const record: Record<string, CedarValueJson> = {};
  for (const [key, value] of Object.entries(values)) if (!key.startsWith('__')) record[key] = value;
  return record;
}
