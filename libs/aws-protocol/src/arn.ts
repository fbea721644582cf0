/**
 * Resource ARNs from the catalogue's templates (syntax: libs/aws-catalogue/generator/rules.mjs). Values come from the
 * request; nothing here throws, and a template whose required members are absent yields nothing.
 */
export interface ArnContext {
  partition: string;
  region: string;
  account: string;
  /** Values of the operation's members: a scalar is a one-element list, a map its keys. */
  values: ReadonlyMap<string, readonly string[]>;
}

interface Placeholder {
  raw: string;
  name: string;
  fallback?: string;
  filter?: string;
}

const placeholderPattern = /\{([A-Za-z0-9]+)(?:\?([^}:]*))?(?::([A-Za-z]+))?\}/g;
const maxArnsPerTemplate = 1000;
const parsed = new Map<string, Placeholder[]>();

function placeholdersOf(template: string): Placeholder[] {
  let list = parsed.get(template);
  if (!list) {
    list = [...template.matchAll(placeholderPattern)].map(([raw, name, fallback, filter]) => ({ raw, name: name as string, fallback, filter }));
    parsed.set(template, list);
  }
  return list;
}

const filters: Record<string, (value: string) => string | undefined> = {
  noLeadingSlash: (value) => value.replace(/^\/+/, ''),
  lastSegment: (value) => value.split('/').filter((part) => part !== '').pop(),
  kmsKey: (value) => (value.startsWith('alias/') ? value : `key/${value}`),
  copySource: (value) => {
    let decoded = value;
    try {
      decoded = decodeURIComponent(value);
    } catch {
      // keep as sent
    }
    const path = decoded.split('?')[0]?.replace(/^\/+/, '');
    return path && path.includes('/') ? path : undefined;
  },
  urlAccount: (value) => queueUrlParts(value)?.[0],
  keys: (value) => value,
};

function queueUrlParts(value: string): [string, string] | undefined {
  try {
    const parts = new URL(value).pathname.split('/').filter((part) => part !== '');
    return parts.length === 2 ? [parts[0] as string, parts[1] as string] : undefined;
  } catch {
    return undefined;
  }
}

interface Produced {
  arn: string;
  members: Set<string>;
}

/**
 * Expands each template; when one result's members are a strict subset of another's (a bucket and an object in it),
 * only the more specific one stays.
 */
export function buildArns(templates: readonly string[], context: ArnContext): string[] {
  const produced: Produced[] = [];
  for (const template of templates) produced.push(...expand(template, context));
  const kept = produced.filter((candidate) => !produced.some((other) => other !== candidate && isStrictSubset(candidate.members, other.members)));
  return [...new Set(kept.map((entry) => entry.arn))];
}

function isStrictSubset(a: Set<string>, b: Set<string>): boolean {
  if (a.size >= b.size) return false;
  for (const item of a) if (!b.has(item)) return false;
  return true;
}

function expand(template: string, context: ArnContext): Produced[] {
  const placeholders = placeholdersOf(template).filter((p) => p.name !== 'p' && p.name !== 'r' && p.name !== 'a');
  const onlyPassthrough = placeholders.length === 1 && template === placeholders[0]?.raw;
  // Every combination of values (lists multiply), bounded.
  let combinations: Map<string, string>[] = [new Map()];
  const used = new Set<string>();
  for (const placeholder of placeholders) {
    if (used.has(placeholder.name)) continue;
    const values = context.values.get(placeholder.name);
    if (!values || values.length === 0) {
      if (placeholder.fallback === undefined) return [];
      continue;
    }
    used.add(placeholder.name);
    const next: Map<string, string>[] = [];
    for (const combination of combinations) {
      for (const value of values) {
        if (next.length >= maxArnsPerTemplate) break;
        next.push(new Map(combination).set(placeholder.name, value));
      }
    }
    combinations = next;
  }
  if (used.size === 0) return [];
  const out: Produced[] = [];
  for (const combination of combinations) {
    // A member that already holds an ARN names the resource itself (a function ARN given as FunctionName).
    const last = placeholders.filter((p) => combination.has(p.name)).pop();
    const lastValue = last ? combination.get(last.name) : undefined;
    if (lastValue?.startsWith('arn:')) {
      out.push({ arn: lastValue, members: used });
      continue;
    }
    if (onlyPassthrough) continue;
    let failed = false;
    const arn = template.replace(placeholderPattern, (_raw, name: string, fallback: string | undefined, filter: string | undefined) => {
      if (name === 'p') return context.partition;
      if (name === 'r') return context.region;
      if (name === 'a') return context.account;
      const value = combination.get(name);
      if (value === undefined) return fallback === '@a' ? context.account : (fallback ?? '');
      const transform = filter ? filters[filter] : undefined;
      const result = transform ? transform(value) : value;
      if (result === undefined || result === '') failed = true;
      return result ?? '';
    });
    if (!failed) out.push({ arn, members: used });
  }
  return out;
}

/** The queue's account and name in an SQS queue URL. */
export { queueUrlParts };
