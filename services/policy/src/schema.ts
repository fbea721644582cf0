import { accessLevels, actionInfo, catalogueActions, crossGroups, knownServicePrefixes, serviceActions, type ActionInfo } from './access-levels.js';
import { assumeRoleAction, entityTypes, namespace } from './entities.js';

/**
 * Airlock's Cedar schema, derived from the AWS catalogue (never hand-copied, so it cannot go stale: a new catalogue is
 * a new schema). It describes exactly what entities.ts builds for each request:
 *
 * - `Principal` (people and workloads; `kind` says which) in `Group`s, with the token's subject, issuer and name;
 * - every IAM action of the catalogue, in its service's level group (`s3:read`), which is in the service group
 *   (`s3:*`) and the level group (`read`), all in `*`; destroying writes also in `destroy`, credential-minting calls
 *   in `credentials`;
 * - `Resource` (an ARN, split into partition, service, region, account and type; tags when known) and `Role` (what
 *   the STS facade asks about), with the same attributes;
 * - the context: time, source address, session age, whether Airlock knew the operation, DryRun, the role, region,
 *   service and operation, and every request parameter as a tag of `context.parameters`.
 */
const header = [
  '  entity Group;',
  '  entity Principal in [Group] { subject: String, issuer: String, name: String, kind: String };',
  // A role has the attributes of any resource, so that a condition on `resource` reads the same whatever it is.
  '  entity Resource, Role { arn: String, partition: String, service: String, region: String, account: String, type: String } tags String;',
  '  entity Parameters tags String;',
  '  type Context = {',
  '    time: datetime, role: String, region: String, service: String, operation: String,',
  '    operationKnown: Bool, dryRun: Bool, parameters: Parameters, sourceIp?: ipaddr, sessionAgeSeconds?: Long',
  '  };',
];

let full: string | undefined;

/** The whole schema, every catalogue action declared (≈15,000; `airlock policy schema` prints it for editors and tools). */
export function policySchema(): string {
  full ??= renderSchema(catalogueActions());
  return full;
}

/**
 * The schema a policy set is validated against: the whole schema's entity types, context and groups, but of the
 * concrete actions only those the policies name and one member of every group they could reach. Cedar needs seconds
 * to read the whole schema (every action carries its own request type), and it would check every policy against
 * each of ≈15,000 actions that all have the same principal, resource and context types; the verdicts are the same,
 * since a policy can only tell actions apart by naming them (schema.test.ts compares both on a table of policies).
 */
export function validationSchema(namedActions: Iterable<string>): string {
  const known = knownServicePrefixes();
  const services = new Set<string>();
  const chosen = new Map<string, ActionInfo>();
  const take = (action: string) => {
    const info = actionInfo(action);
    if (info) chosen.set(action, info);
  };
  take(assumeRoleAction);
  for (const action of namedActions) {
    take(action);
    // Only services the catalogue has get their groups: "nope:*" stays unknown to Cedar, as in the whole schema.
    const service = action.slice(0, Math.max(0, action.indexOf(':')));
    if (known.has(service)) services.add(service);
  }
  // One member of every level and cross group, and of every level of each named service, so that `action in <group>`
  // has an action to be checked against, as it has in the whole schema. S3 and STS between them have a member of
  // every level and cross group.
  const wanted = new Set<string>([...accessLevels, ...crossGroups]);
  for (const service of services) for (const level of accessLevels) wanted.add(`${service}:${level}`);
  for (const service of new Set([...services, 's3', 'sts'])) {
    for (const [action, info] of serviceActions(service)) {
      const reached = [info.level, ...info.groups, `${service}:${info.level}`].filter((group) => wanted.has(group));
      if (reached.length === 0) continue;
      chosen.set(action, info);
      for (const group of reached) wanted.delete(group);
    }
  }
  return renderSchema(chosen, services);
}

/** Declares the given actions and the groups above them (and every level group of `alsoServices`, if any). */
export function renderSchema(actions: ReadonlyMap<string, ActionInfo>, alsoServices: Iterable<string> = []): string {
  const quote = (value: string) => JSON.stringify(value);
  const declarations = new Map<string, string[]>();
  const services = new Set<string>(alsoServices);
  for (const [action, info] of actions) {
    const service = action.slice(0, action.indexOf(':'));
    services.add(service);
    const key = [`${service}:${info.level}`, ...info.groups].map(quote).join(', ');
    declarations.set(key, [...(declarations.get(key) ?? []), action]);
  }
  const appliesTo = 'appliesTo { principal: Principal, resource: Resource, context: Context }';
  const lines = [
    '// Derived by Airlock from the AWS catalogue (services/policy/src/schema.ts).',
    `namespace ${namespace} {`,
    ...header,
    '  action "*";',
    `  action ${[...accessLevels, ...crossGroups].map(quote).join(', ')} in ["*"];`,
  ];
  for (const service of [...services].sort()) {
    lines.push(`  action ${quote(`${service}:*`)} in ["*"];`);
    for (const level of accessLevels) lines.push(`  action ${quote(`${service}:${level}`)} in [${quote(`${service}:*`)}, ${quote(level)}];`);
  }
  for (const [parents, members] of [...declarations].sort(([a], [b]) => a.localeCompare(b))) {
    const sorted = members.sort();
    // The STS facade's role check is the one action decided on a Role.
    const plain = sorted.filter((action) => action !== assumeRoleAction);
    if (plain.length > 0) lines.push(`  action ${plain.map(quote).join(', ')} in [${parents}] ${appliesTo};`);
    if (plain.length < sorted.length) {
      lines.push(`  action ${quote(assumeRoleAction)} in [${parents}] appliesTo { principal: Principal, resource: [Resource, Role], context: Context };`);
    }
  }
  lines.push('}', '');
  return lines.join('\n');
}

/** Every action a policy names anywhere (scope or condition), from Cedar's JSON form of it. */
export function namedActions(json: unknown, into: Set<string> = new Set()): Set<string> {
  if (Array.isArray(json)) {
    for (const item of json) namedActions(item, into);
  } else if (typeof json === 'object' && json !== null) {
    const { type, id } = json as { type?: unknown; id?: unknown };
    if (type === entityTypes.action && typeof id === 'string') into.add(id);
    for (const value of Object.values(json)) namedActions(value, into);
  }
  return into;
}
