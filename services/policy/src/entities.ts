import type { AwsCall, Principal } from '@airlock/contracts';
import type { CedarValueJson, EntityJson, EntityUidJson } from './cedar.js';

/**
 * Airlock's Cedar entity model (namespace `Airlock`):
 *
 * - principal `Airlock::Principal::"<issuer>#<subject>"` { subject, issuer, name }, member of `Airlock::Group::"<g>"`
 * - action `Airlock::Action::"s3:PutObject"` in `Airlock::Action::"s3:*"` in `Airlock::Action::"*"`
 * - resource `Airlock::Resource::"<arn>"` { arn, service, region, account }; `Airlock::Resource::"*"` when the call names
 *   no resource (ListBuckets, DescribeInstances without ids) — its arn attribute is "*" and account is "";
 *   for the STS facade's role check (`sts:AssumeRoleWithWebIdentity`) the resource is `Airlock::Role::"<role arn>"`.
 * - context { role, region, service, operation, parameters: { ... }, ...the request's context strings }
 */
export const namespace = 'Airlock';
const types = {
  principal: `${namespace}::Principal`,
  group: `${namespace}::Group`,
  action: `${namespace}::Action`,
  resource: `${namespace}::Resource`,
  role: `${namespace}::Role`,
} as const;

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
): CedarRequest {
  const principalUid = { type: types.principal, id: principalId(principal) };
  const actionUid = { type: types.action, id: action };
  const resourceUid = { type: types[resource.type], id: resource.id };
  const entities: EntityJson[] = [
    {
      uid: principalUid,
      attrs: { subject: principal.subject, issuer: principal.issuer, name: principal.name },
      parents: principal.groups.map((group) => ({ type: types.group, id: group })),
    },
    ...actionEntities(action),
    { uid: resourceUid, attrs: resourceAttributes(resource.id, call), parents: [] },
  ];
  const context: Record<string, CedarValueJson> = {
    ...safeRecord(requestContext),
    // Set last so that a request context key can never pose as the role, region or operation being decided.
    role: call.roleArn,
    region: call.region,
    service: call.service,
    operation: call.operation,
    parameters: safeRecord(call.parameters),
  };
  return { principal: principalUid, action: actionUid, resource: resourceUid, context, entities };
}

/** `s3:PutObject` in `s3:*` in `*`, so that policies can say `action in Airlock::Action::"s3:*"`. */
function actionEntities(action: string): EntityJson[] {
  const service = action.slice(0, action.indexOf(':'));
  const serviceWide = `${service}:*`;
  const entity = (id: string, parent?: string): EntityJson => ({
    uid: { type: types.action, id },
    attrs: {},
    parents: parent === undefined ? [] : [{ type: types.action, id: parent }],
  });
  const chain = [entity('*'), entity(serviceWide, '*')];
  if (action !== serviceWide && action !== '*') chain.push(entity(action, serviceWide));
  return chain;
}

/** arn:partition:service:region:account:resource */
function resourceAttributes(id: string, call: AwsCall): Record<string, CedarValueJson> {
  if (id === anyResourceId) return { arn: id, service: call.service, region: call.region, account: '' };
  const [prefix, , service = '', region = '', account = ''] = id.split(':');
  if (prefix !== 'arn') return { arn: id, service: call.service, region: call.region, account: '' };
  return { arn: id, service, region, account };
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
