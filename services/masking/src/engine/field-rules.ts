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
  const ids = new Set([...servicesBySigningName(service), service]);
  // An answer that is the caller's own data (an S3 object, a Lambda function's result) has no members to rule on: the
  // detectors alone look at it, whatever it holds.
  const bodyIsData = [...ids].some((id) => catalogueService(id)?.ops[operation]?.po === 1);
  // Extra rules first: where both cover a value, the named kind (env-value) wins over the catalogue's "sensitive".
  const extra = !bodyIsData && Object.hasOwn(extraRules, service) ? extraRules[service] : undefined;
  if (extra) {
    for (const op of [operation, '*']) if (Object.hasOwn(extra, op)) rules.push(...(extra[op] ?? []));
  }
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

/**
 * Where a walk down an answer stands against the rules: the rule positions still alive (rule index and the next
 * segment it needs). Rules starting with `**` are alive at every depth and are not listed. Shared and never mutated.
 */
export type MatchState = readonly number[];

/**
 * The wire format of an operation's answers, from its service's protocol (by signing name): what field rules are
 * written against. undefined for a service the catalogue does not know.
 */
export function answerFormatOf(service: string): 'json' | 'xml' | undefined {
  for (const id of new Set([...servicesBySigningName(service), service])) {
    const protocol = catalogueService(id)?.p;
    if (protocol === 'json' || protocol === 'rest-json') return 'json';
    if (protocol === 'query' || protocol === 'ec2' || protocol === 'rest-xml') return 'xml';
  }
  return undefined;
}

/** A compiled rule set: which rule, if any, covers a path of member names ('[]' for list elements). */
export interface RuleMatcher {
  readonly empty: boolean;
  /** The whole path at once (XML). */
  match(path: readonly string[]): FieldRule | undefined;
  /** The state at the top-level value, and the rule that covers the top-level value itself (path "."), if any. */
  readonly root: { state: MatchState; rule?: FieldRule | undefined };
  /**
   * One step down: into the member named by `bytes[start, end)` (latin1, compared regardless of ASCII case), or into a
   * list element when `bytes` is undefined. Allocation-free when no rule can match below (the common case).
   */
  step(state: MatchState, bytes: Uint8Array | undefined, start: number, end: number): { state: MatchState; rule?: FieldRule | undefined };
}

const emptyState: MatchState = [];
const noMatch = { state: emptyState };
/** Rule positions are packed as rule index × 256 + segment index. */
const segmentBits = 256;

const compiledRules = new WeakMap<readonly FieldRule[], RuleMatcher>();

/** Compiled once per rule list (fieldRulesFor caches its lists, so an operation's rules compile once). */
export function compileRules(rules: readonly FieldRule[]): RuleMatcher {
  let matcher = compiledRules.get(rules);
  if (!matcher) {
    matcher = compile(rules);
    compiledRules.set(rules, matcher);
  }
  return matcher;
}

function compile(rules: readonly FieldRule[]): RuleMatcher {
  const compiled = rules.map((rule) => {
    const segments = rule.path === '.' ? [] : rule.path.split('.').map((segment) => segment.toLowerCase());
    const anywhere = segments[0] === '**';
    const rest = anywhere ? segments.slice(1) : segments;
    return { rule, segments: rest, codes: rest.map((segment) => Buffer.from(segment, 'latin1')), anywhere };
  });
  const anywhere = compiled.flatMap((entry, index) => (entry.anywhere && entry.segments.length > 0 ? [index] : []));
  const memo = new Map<string, FieldRule | null>();
  const find = (path: readonly string[]): FieldRule | undefined => {
    for (const { rule, segments, anywhere: any } of compiled) {
      // A rule covers its member and everything under it.
      const starts = any ? path.length - segments.length + 1 : Math.min(1, path.length - segments.length + 1);
      for (let at = 0; at < starts; at++) {
        if (segments.every((segment, i) => segmentMatches(segment, path[at + i]))) return rule;
      }
    }
    return undefined;
  };

  function segmentFits(code: Buffer, bytes: Uint8Array | undefined, start: number, end: number): boolean {
    if (bytes === undefined) return code.length === 2 && code[0] === 0x5b && code[1] === 0x5d; // []
    if (code.length === 2 && code[0] === 0x7b && code[1] === 0x7d) return true; // {} : any member
    if (code.length !== end - start) return false;
    for (let i = 0; i < code.length; i++) {
      let c = bytes[start + i]!;
      if (c >= 0x41 && c <= 0x5a) c += 0x20;
      if (c !== code[i]) return false;
    }
    return true;
  }

  const initial: number[] = [];
  let rootRule: FieldRule | undefined;
  compiled.forEach((entry, index) => {
    if (entry.anywhere) return;
    if (entry.segments.length === 0) rootRule ??= entry.rule;
    else initial.push(index * segmentBits);
  });

  return {
    empty: compiled.length === 0,
    root: { state: initial.length > 0 ? initial : emptyState, rule: rootRule },
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
    step(state, bytes, start, end) {
      if (state.length === 0 && anywhere.length === 0) return noMatch;
      let next: number[] | undefined;
      let best = -1;
      // Alive positions first, then every `**` rule from its first segment.
      for (let k = 0; k < state.length + anywhere.length; k++) {
        const ruleIndex = k < state.length ? Math.floor(state[k]! / segmentBits) : anywhere[k - state.length]!;
        const segment = k < state.length ? state[k]! % segmentBits : 0;
        const codes = compiled[ruleIndex]!.codes;
        if (!segmentFits(codes[segment]!, bytes, start, end)) continue;
        if (segment + 1 === codes.length) {
          if (best < 0 || ruleIndex < best) best = ruleIndex;
        } else (next ??= []).push(ruleIndex * segmentBits + segment + 1);
      }
      if (best < 0 && next === undefined) return noMatch;
      return { state: next ?? emptyState, rule: best < 0 ? undefined : compiled[best]!.rule };
    },
  };
}

function segmentMatches(rule: string, actual: string | undefined): boolean {
  if (actual === undefined) return false;
  if (rule === '{}') return actual !== '[]';
  return rule === actual.toLowerCase();
}

function overlaps(a: string, b: string): boolean {
  const plain = (path: string) => path.replace(/^\*\*\./, '').replace(/(?:\.\{\}|\.\[\])+$/, '').toLowerCase();
  const [x, y] = [plain(a), plain(b)];
  return x === y || x.endsWith(`.${y}`) || y.endsWith(`.${x}`);
}
