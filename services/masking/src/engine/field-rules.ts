import { catalogueService, servicesBySigningName } from '@airlock/aws-catalogue';

/**
 * A field rule: output members of an operation that are secret whatever they hold. `path` is dotted member (wire)
 * names from the operation's output (the `<Op>Result` element for query protocols), `[]` for any list element, `{}`
 * for any map value or member, and `**` (first segment only) for "at any depth". Everything under a matching member
 * is masked (string leaves; numbers and booleans are kept so that SDKs still parse the answer).
 */
export interface FieldRule {
  kind: string;
  path: string;
  /** The member is a blob: the replacement is sent base64-encoded so that SDKs can still decode it. */
  base64?: boolean;
}

/** What the AWS models do not mark sensitive but is: by signing name, then operation ("*": every operation). */
const extraRules: Record<string, Record<string, FieldRule[]>> = {
  sts: Object.fromEntries(
    ['AssumeRole', 'AssumeRoleWithWebIdentity', 'AssumeRoleWithSAML', 'GetSessionToken', 'GetFederationToken', 'AssumeRoot'].map((op) => [
      op,
      [
        { kind: 'aws-secret-key', path: 'Credentials.SecretAccessKey' },
        { kind: 'aws-session-token', path: 'Credentials.SessionToken' },
      ],
    ]),
  ),
  ecr: { GetAuthorizationToken: [{ kind: 'auth-token', path: 'authorizationData.[].authorizationToken' }] },
  'ecr-public': { GetAuthorizationToken: [{ kind: 'auth-token', path: 'authorizationData.authorizationToken' }] },
  codeartifact: { GetAuthorizationToken: [{ kind: 'auth-token', path: 'authorizationToken' }] },
  ecs: {
    '*': [
      { kind: 'env-value', path: '**.containerDefinitions.[].environment.[].value' },
      { kind: 'env-value', path: '**.containerOverrides.[].environment.[].value' },
    ],
  },
  codebuild: { '*': [{ kind: 'env-value', path: '**.environmentVariables.[].value' }] },
  rds: { '*': [{ kind: 'password', path: '**.MasterUserPassword' }] },
  ec2: {
    GetPasswordData: [{ kind: 'password', path: 'passwordData' }],
    CreateKeyPair: [{ kind: 'private-key', path: 'keyMaterial' }],
  },
  lambda: { '*': [{ kind: 'env-value', path: '**.Environment.Variables.{}' }] },
  ssm: {
    GetParameter: [{ kind: 'parameter-value', path: 'Parameter.Value' }],
    GetParameters: [{ kind: 'parameter-value', path: 'Parameters.[].Value' }],
    GetParametersByPath: [{ kind: 'parameter-value', path: 'Parameters.[].Value' }],
    GetParameterHistory: [{ kind: 'parameter-value', path: 'Parameters.[].Value' }],
  },
  secretsmanager: {
    GetSecretValue: [
      { kind: 'secret-string', path: 'SecretString' },
      { kind: 'secret-binary', path: 'SecretBinary', base64: true },
    ],
    BatchGetSecretValue: [
      { kind: 'secret-string', path: 'SecretValues.[].SecretString' },
      { kind: 'secret-binary', path: 'SecretValues.[].SecretBinary', base64: true },
    ],
  },
};

/** Members that the models mark sensitive and whose type is a blob (base64 on the wire). */
const blobNames = /^(?:SecretBinary|Plaintext|[A-Za-z]*Blob)$/;

const cache = new Map<string, readonly FieldRule[]>();

/**
 * The field rules of one operation: the catalogue's sensitive output members of every service signed with this
 * name (or with this catalogue id) plus the extra rules above. `service` is what the edge sends: the signing name.
 */
export function fieldRulesFor(service: string, operation: string): readonly FieldRule[] {
  const key = `${service}\u0000${operation}`;
  const cached = cache.get(key);
  if (cached) return cached;
  const rules: FieldRule[] = [];
  // Extra rules first: where both cover a value, the named kind (env-value) wins over the catalogue's "sensitive".
  const extra = Object.hasOwn(extraRules, service) ? extraRules[service] : undefined;
  if (extra) {
    for (const op of [operation, '*']) if (Object.hasOwn(extra, op)) rules.push(...(extra[op] ?? []));
  }
  const ids = new Set([...servicesBySigningName(service), service]);
  for (const id of ids) {
    const described = catalogueService(id)?.ops[operation];
    for (const path of described?.so ?? []) {
      // Where an extra rule covers the same member more precisely (Lambda's variables as env-value), it alone applies.
      if (rules.some((rule) => overlaps(rule.path, path))) continue;
      const last = path.split('.').at(-1) ?? '';
      rules.push({ kind: 'sensitive', path, ...(blobNames.test(last) ? { base64: true } : {}) });
    }
  }
  // A named kind wins over the catalogue's generic "sensitive" for the same path.
  const byPath = new Map<string, FieldRule>();
  for (const rule of rules) {
    const known = byPath.get(rule.path.toLowerCase());
    if (!known || known.kind === 'sensitive') byPath.set(rule.path.toLowerCase(), rule);
  }
  const result = [...byPath.values()];
  if (cache.size > 5000) cache.clear();
  cache.set(key, result);
  return result;
}

/** A compiled rule set: which rule, if any, covers a path of member names ('[]' for list elements). */
export interface RuleMatcher {
  match(path: readonly string[]): FieldRule | undefined;
  readonly empty: boolean;
}

export function compileRules(rules: readonly FieldRule[]): RuleMatcher {
  const compiled = rules.map((rule) => {
    const segments = rule.path === '.' ? [] : rule.path.split('.').map((segment) => segment.toLowerCase());
    const anywhere = segments[0] === '**';
    return { rule, segments: anywhere ? segments.slice(1) : segments, anywhere };
  });
  const memo = new Map<string, FieldRule | null>();
  const find = (path: readonly string[]): FieldRule | undefined => {
      for (const { rule, segments, anywhere } of compiled) {
        // A rule covers its member and everything under it.
        const starts = anywhere ? path.length - segments.length + 1 : Math.min(1, path.length - segments.length + 1);
        for (let at = 0; at < starts; at++) {
          if (segments.every((segment, i) => segmentMatches(segment, path[at + i]))) return rule;
        }
      }
      return undefined;
  };
  return {
    empty: compiled.length === 0,
    match(path) {
      if (compiled.length === 0) return undefined;
      const key = path.join('\u0000');
      const known = memo.get(key);
      if (known !== undefined) return known ?? undefined;
      const rule = find(path);
      if (memo.size > 10_000) memo.clear();
      memo.set(key, rule ?? null);
      return rule;
    },
  };
}

function segmentMatches(rule: string, actual: string | undefined): boolean {
  if (actual === undefined) return false;
  if (rule === '{}') return actual !== '[]';
  return rule === actual.toLowerCase();
}

/** The location written into mask events: the path with list positions left out. */
export function locationOf(path: readonly string[]): string {
  return path.join('.').replaceAll('.[]', '[]');
}

function overlaps(a: string, b: string): boolean {
  const plain = (path: string) => path.replace(/^\*\*\./, '').replace(/(?:\.\{\}|\.\[\])+$/, '').toLowerCase();
  const [x, y] = [plain(a), plain(b)];
  return x === y || x.endsWith(`.${y}`) || y.endsWith(`.${x}`);
}
