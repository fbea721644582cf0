import { catalogueIndex, catalogueService } from '@airlock/aws-catalogue';
import { mintsCredentials } from '@airlock/aws-protocol';

/**
 * IAM's access levels, as the IAM service authorization reference names them (List, Read, Write, Permissions
 * management, Tagging). AWS does not ship that reference in the SDK models the catalogue is built from, so Airlock
 * derives the level of each action from the catalogue's read-only flag (judged from the operation's verb) and from
 * the action's name:
 *
 * - read-only actions named `List…` or `Describe…` are `list`; every other read-only action is `read`;
 * - `Tag…`/`Untag…` actions, and writes that add, remove or change tags (`CreateTags`, `AddTagsToResource`,
 *   `PutBucketTagging`, `ChangeTagsForResource`; not `…WithTags`) are `tagging`;
 * - writes that manage who may do what — names with Policy/Policies, Acl(s), Permission(s), Grant(s) or
 *   PublicAccessBlock — are `permissions`, except policies that are not about access (lifecycle, scaling, retention,
 *   traffic, firewall, … see `notAccessPolicies`);
 * - every other action is `write`.
 *
 * It is a heuristic over names, kept here in one place and pinned by access-levels.test.ts; where it is wrong for an
 * action a policy can still name that action itself.
 */
export const accessLevels = ['read', 'list', 'write', 'permissions', 'tagging'] as const;
export type AccessLevel = (typeof accessLevels)[number];

/**
 * Groups that cut across services and levels, for the two things an agent pack must single out:
 * `destroy` — writes that delete or end something (`Delete…`, `Terminate…`, `Purge…`, `Destroy…`, `Schedule…Deletion`,
 * batch forms included); `credentials` — calls whose answer would be AWS credentials (the edge's own list).
 */
export const crossGroups = ['destroy', 'credentials'] as const;
export type CrossGroup = (typeof crossGroups)[number];

const listVerbs = /^(List|Describe)(?=[A-Z]|$)/;
const tagVerbs = /^(Tag|Untag)(?=[A-Z]|$)/;
const tagChanges = /^(Add|Remove|Create|Delete|Put|Update|Set|Replace|Change|CreateOrUpdate)[A-Za-z]*?(?<!With)Tag(s|ging)?(?=To|From|For|On|$)/;
const accessWords = /(Polic(y|ies)|Acls?|Permissions?|Grants?|PublicAccessBlock)(?=[A-Z]|$)/;
/** Qualifiers of "…Policy" that configure behaviour, not access (`PutLifecyclePolicy`, `PutScalingPolicy`, …). */
const notAccessPolicies =
  /(Lifecycle|Scaling|Retention|Traffic|Firewall|Scheduling|Cache|Deployment|Headers|Stickiness|Termination|Backup|Retrieval|Metric|Cors|Password|Recipe|Protection|Resiliency|Creation|Launch|Mailbox|Balancer|Configuration|Placement|Routing|Origin|Storage|Compute|Snapshot)Polic(y|ies)/;
const destroyVerbs = /^(Batch)?(Delete|Terminate|Purge|Destroy)(?=[A-Z]|$)|^Schedule[A-Za-z]*Deletion$/;

/** The access level of an IAM action's name (the part after the colon), given whether its operation only reads. */
export function accessLevelOf(name: string, readOnly: boolean): AccessLevel {
  if (readOnly) return listVerbs.test(name) ? 'list' : 'read';
  if (tagVerbs.test(name) || tagChanges.test(name)) return 'tagging';
  if (accessWords.test(name) && !notAccessPolicies.test(name)) return 'permissions';
  return 'write';
}

/** The cross-cutting groups an action belongs to besides its service and level. */
export function crossGroupsOf(action: string, level: AccessLevel): CrossGroup[] {
  const groups: CrossGroup[] = [];
  const name = action.slice(action.indexOf(':') + 1);
  if ((level === 'write' || level === 'permissions') && destroyVerbs.test(name)) groups.push('destroy');
  if (mintsCredentials(action)) groups.push('credentials');
  return groups;
}

/** What Airlock knows of one IAM action. */
export interface ActionInfo {
  readonly level: AccessLevel;
  readonly groups: readonly CrossGroup[];
}

const byPrefix = new Map<string, ReadonlyMap<string, ActionInfo>>();
let idsByPrefix: ReadonlyMap<string, readonly string[]> | undefined;

/** Catalogue service ids by IAM prefix (several services share one: elasticloadbalancing, …), from the cheap index. */
function serviceIdsByPrefix(): ReadonlyMap<string, readonly string[]> {
  if (idsByPrefix) return idsByPrefix;
  const ids = new Map<string, string[]>();
  for (const [id, service] of Object.entries(catalogueIndex())) {
    const prefix = service.iam ?? service.sig;
    ids.set(prefix, [...(ids.get(prefix) ?? []), id]);
  }
  idsByPrefix = ids;
  return ids;
}

/** IAM service prefixes the catalogue knows (`s3`, `ec2`, `cloudwatch`, …). */
export function knownServicePrefixes(): ReadonlySet<string> {
  return new Set(serviceIdsByPrefix().keys());
}

/**
 * The actions of one IAM service prefix (its operations' actions and S3's version actions), with their level and
 * groups, by action. Only that prefix's services are parsed, once (1–2 ms each), so a decision never waits for the
 * whole catalogue.
 */
export function serviceActions(prefix: string): ReadonlyMap<string, ActionInfo> {
  const cached = byPrefix.get(prefix);
  if (cached) return cached;
  const actions = new Map<string, ActionInfo>();
  for (const id of serviceIdsByPrefix().get(prefix) ?? []) {
    for (const [operation, op] of Object.entries(catalogueService(id)?.ops ?? {})) {
      for (const action of [op.a ?? `${prefix}:${operation}`, op.va]) {
        // Overrides may name another prefix's action (rare); it is listed under its own prefix only.
        if (action === undefined || actions.has(action) || !action.startsWith(`${prefix}:`)) continue;
        const level = accessLevelOf(action.slice(prefix.length + 1), op.r === 1);
        actions.set(action, { level, groups: crossGroupsOf(action, level) });
      }
    }
  }
  byPrefix.set(prefix, actions);
  return actions;
}

/** What Airlock knows of one IAM action (`s3:GetObject`), or nothing when the catalogue does not name it. */
export function actionInfo(action: string): ActionInfo | undefined {
  const colon = action.indexOf(':');
  return colon > 0 && serviceIdsByPrefix().has(action.slice(0, colon)) ? serviceActions(action.slice(0, colon)).get(action) : undefined;
}

/** Every IAM action the catalogue names, by action (parses the whole catalogue, ~100 ms: for the full schema and tests). */
export function catalogueActions(): ReadonlyMap<string, ActionInfo> {
  const all = new Map<string, ActionInfo>();
  for (const prefix of [...serviceIdsByPrefix().keys()].sort()) for (const [action, info] of serviceActions(prefix)) all.set(action, info);
  return all;
}
