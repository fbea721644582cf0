import { readdir, readFile, stat } from 'node:fs/promises';
import { isAbsolute, join, relative, resolve } from 'node:path';
import { AirlockError } from '@airlock/errors';
import { readAnnotations, type PolicyMeta } from './annotations.js';
import { checkParsePolicySet, policySetTextToParts, policyToJson, validate, type DetailedError } from './cedar.js';
import { readsTimeVaryingContext } from './entities.js';
import { namedActions, validationSchema } from './schema.js';

export interface PolicyBundle {
  /** Policy text by Airlock policy id, ready for Cedar. */
  readonly policies: Readonly<Record<string, string>>;
  readonly meta: ReadonlyMap<string, PolicyMeta>;
  /** The files read, in order, as named in errors. */
  readonly files: readonly string[];
}

export interface LoadOptions {
  /** Cedar files and directories (every `*.cedar` directly inside, sorted by name), read in this order. */
  files: readonly string[];
  /** Relative file names resolve against it. @default process.cwd() */
  baseDir?: string;
}

/** One policy file to read: its absolute path and the name errors and ids use (relative to the base directory). */
export interface PolicyFile {
  readonly path: string;
  readonly label: string;
}

/**
 * Expands the configured paths into the policy files they name: a file as it is, a directory as every `*.cedar`
 * directly inside it, sorted by name so that the order (and so the generated ids) is the same on every machine.
 * A file named twice (directly and through its directory) is read once.
 */
export async function resolvePolicyFiles(options: LoadOptions): Promise<PolicyFile[]> {
  const baseDir = options.baseDir ?? process.cwd();
  const seen = new Set<string>();
  const files: PolicyFile[] = [];
  const add = (path: string) => {
    if (seen.has(path)) return;
    seen.add(path);
    files.push({ path, label: labelOf(baseDir, path) });
  };
  for (const entry of options.files) {
    const path = resolve(baseDir, entry);
    const label = labelOf(baseDir, path);
    let isDirectory = false;
    try {
      isDirectory = (await stat(path)).isDirectory();
    } catch (error) {
      const reason = error instanceof Error ? error.message : String(error);
      throw new AirlockError('InvalidConfiguration', `Policy file ${label} cannot be read: ${reason}`, { cause: error });
    }
    if (!isDirectory) {
      add(path);
      continue;
    }
    const names = (await readdir(path, { withFileTypes: true }))
      .filter((dirent) => dirent.isFile() && dirent.name.endsWith('.cedar'))
      .map((dirent) => dirent.name)
      .sort();
    for (const name of names) add(join(path, name));
  }
  return files;
}

/** A path as people read it: relative to the base directory when inside it, else absolute. */
function labelOf(baseDir: string, path: string): string {
  const label = relative(baseDir, path);
  return label === '' || label.startsWith('..') || isAbsolute(label) ? path : label;
}

/**
 * Reads and parses every policy file, failing on the first bad one with the file, position and Cedar's own message,
 * then validates the whole set against Airlock's schema (schema.ts), failing with every policy the validator rejects,
 * in the same form. Policy ids are the `@id` annotation, else `<file>:<Cedar id>` so that ids stay unique across files.
 */
export async function loadPolicies(options: LoadOptions): Promise<PolicyBundle> {
  if (options.files.length === 0) {
    throw new AirlockError('InvalidConfiguration', 'No policy files are configured; Airlock would deny every call.');
  }
  const files = await resolvePolicyFiles(options);
  if (files.length === 0) {
    throw new AirlockError('InvalidConfiguration', `No *.cedar file in ${options.files.join(', ')}; Airlock would deny every call.`);
  }
  const policies: Record<string, string> = {};
  const meta = new Map<string, PolicyMeta>();
  const located: LocatedPolicy[] = [];
  for (const { path, label } of files) {
    const fileText = await readPolicyFile(path, label);
    for (const policy of parseFile(label, fileText)) {
      const existing = meta.get(policy.meta.id);
      if (existing) {
        throw new AirlockError(
          'InvalidConfiguration',
          `Policy id "${policy.meta.id}" in ${label} is already used in ${existing.source}; @id values must be unique.`,
        );
      }
      policies[policy.meta.id] = policy.text;
      meta.set(policy.meta.id, policy.meta);
      located.push({ id: policy.meta.id, label, fileText, text: policy.text, actions: policy.actions });
    }
  }
  const problems = schemaProblems(located);
  if (problems.length > 0) throw new AirlockError('InvalidConfiguration', problems.join('; '));
  return { policies, meta, files: files.map((file) => file.label) };
}

/** What `validatePolicies` found: every file it read, how many policies parsed, and every problem (empty when valid). */
export interface ValidationReport {
  readonly files: readonly string[];
  readonly policies: number;
  readonly problems: readonly string[];
}

/**
 * Checks policy files the way the service loads them, but reports every bad file instead of stopping at the first:
 * Cedar's parse errors with line and column, Airlock's annotation checks, duplicate ids and the schema's verdict on
 * every policy that parsed. For `airlock policy validate`.
 */
export async function validatePolicies(options: LoadOptions): Promise<ValidationReport> {
  if (options.files.length === 0) return { files: [], policies: 0, problems: ['No policy files were given.'] };
  const problems: string[] = [];
  let files: PolicyFile[] = [];
  try {
    files = await resolvePolicyFiles(options);
  } catch (error) {
    return { files: [], policies: 0, problems: [error instanceof Error ? error.message : String(error)] };
  }
  if (files.length === 0) problems.push(`No *.cedar file in ${options.files.join(', ')}.`);
  const ids = new Map<string, string>();
  const located: LocatedPolicy[] = [];
  for (const { path, label } of files) {
    try {
      const fileText = await readPolicyFile(path, label);
      for (const policy of parseFile(label, fileText)) {
        const existing = ids.get(policy.meta.id);
        if (existing !== undefined) {
          problems.push(`Policy id "${policy.meta.id}" in ${label} is already used in ${existing}; @id values must be unique.`);
        } else {
          ids.set(policy.meta.id, policy.meta.source);
          located.push({ id: policy.meta.id, label, fileText, text: policy.text, actions: policy.actions });
        }
      }
    } catch (error) {
      problems.push(error instanceof Error ? error.message : String(error));
    }
  }
  problems.push(...schemaProblems(located));
  return { files: files.map((file) => file.label), policies: ids.size, problems };
}

async function readPolicyFile(path: string, label: string): Promise<string> {
  try {
    return await readFile(path, 'utf8');
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    throw new AirlockError('InvalidConfiguration', `Policy file ${label} cannot be read: ${reason}`, { cause: error });
  }
}

/** Splits one file into its policies, each with its text and validated annotations. */
export function parseFile(label: string, text: string): { text: string; meta: PolicyMeta; actions: ReadonlySet<string> }[] {
  const check = checkParsePolicySet({ staticPolicies: text });
  if (check.type === 'failure') throw invalidFile(label, text, check.errors);
  const parts = policySetTextToParts(text);
  if (parts.type === 'failure') throw invalidFile(label, text, parts.errors);
  if (parts.policy_templates.length > 0) {
    throw new AirlockError(
      'InvalidConfiguration',
      `Policy file ${label} is invalid: it contains a template (a policy with ?principal or ?resource); Airlock does not link templates.`,
    );
  }
  // Cedar names a file's policies policy0, policy1, ... in source order and returns them sorted by that id as a string
  // (policy0, policy1, policy10, policy11, policy2, ...), so sorting the ids the same way pairs each text with its id.
  const cedarIds = parts.policies.map((_, index) => `policy${index}`).sort();
  return parts.policies.map((policyText, index) => {
    const cedarId = cedarIds[index] as string;
    const json = policyToJson(policyText);
    if (json.type === 'failure') throw invalidFile(label, policyText, json.errors);
    const annotations = json.json.annotations ?? {};
    const id = annotations['id']?.trim() || `${label}:${cedarId}`;
    try {
      const meta = { ...readAnnotations(id, json.json.effect, `${label} (${id})`, annotations), file: label };
      const rank = (op: string) => (op === '==' ? 2 : op === 'All' ? 0 : 1);
      const specificity = rank(json.json.action.op) * 10 + rank(json.json.principal.op);
      return {
        text: policyText,
        meta: { ...meta, specificity, ...(readsTimeVaryingContext(json.json.conditions) ? { readsTime: true } : {}) },
        actions: namedActions(json.json),
      };
    } catch (error) {
      const reason = error instanceof Error ? error.message : String(error);
      throw new AirlockError('InvalidConfiguration', `Policy file ${label} is invalid: policy ${id}: ${reason}`);
    }
  });
}

/** A parsed policy and where it came from, so that the validator's findings can name its file, line and column. */
interface LocatedPolicy {
  readonly id: string;
  readonly label: string;
  readonly fileText: string;
  readonly text: string;
  readonly actions: ReadonlySet<string>;
}

/**
 * Cedar's strict validation of the set against Airlock's schema: unknown actions, entity types or attributes, type
 * errors (`context.sourceIp like "10.*"`: sourceIp is an ipaddr), attributes read without `has`. One problem per
 * finding, as `Policy file <file> is invalid: policy <id>: line L, column C: <Cedar's message>`.
 */
function schemaProblems(located: readonly LocatedPolicy[]): string[] {
  if (located.length === 0) return [];
  const answer = validate({
    schema: validationSchema(located.flatMap((policy) => [...policy.actions])),
    policies: { staticPolicies: Object.fromEntries(located.map((policy) => [policy.id, policy.text])) },
    validationSettings: { mode: 'strict' },
  });
  if (answer.type === 'failure') return [`Cedar could not validate the policies: ${answer.errors.map((error) => error.message).join('; ')}`];
  const byId = new Map(located.map((policy) => [policy.id, policy]));
  // Cedar reports a finding once per action it checked the policy against; they differ only in the action named,
  // which is one the validation schema picked (schema.ts), so it is dropped and the finding reported once.
  const findings = answer.validationErrors.map(({ policyId, error }) => ({ policyId, error: { ...error, message: error.message.replace(/ for Airlock::Action::"[^"]*"/g, '') } }));
  const seen = new Set<string>();
  const distinct = findings.filter(({ policyId, error }) => {
    const key = JSON.stringify([policyId, error.message, error.sourceLocations?.[0]?.start]);
    return seen.has(key) ? false : (seen.add(key), true);
  });
  const order = new Map(located.map((policy, index) => [policy.id, index]));
  distinct.sort((a, b) => (order.get(a.policyId) ?? 0) - (order.get(b.policyId) ?? 0) || (a.error.sourceLocations?.[0]?.start ?? 0) - (b.error.sourceLocations?.[0]?.start ?? 0) || a.error.message.localeCompare(b.error.message));
  return distinct.map(({ policyId, error }) => {
    const policy = byId.get(policyId);
    if (!policy) return `Policy ${policyId} is invalid: ${error.message}`;
    // Cedar's offsets are into the policy's own text; placed in its file when the text is found there as written.
    const at = policy.fileText.indexOf(policy.text);
    if (at < 0) return `Policy file ${policy.label} is invalid: policy ${policy.id}: ${describeError(policy.text, error)}`;
    const shift = Buffer.byteLength(policy.fileText.slice(0, at));
    const sourceLocations = error.sourceLocations?.map((location) => ({ ...location, start: location.start + shift, end: location.end + shift }));
    return `Policy file ${policy.label} is invalid: policy ${policy.id}: ${describeError(policy.fileText, { ...error, ...(sourceLocations ? { sourceLocations } : {}) })}`;
  });
}

function invalidFile(label: string, text: string, errors: readonly DetailedError[]): AirlockError {
  const described = errors.map((error) => describeError(text, error)).join('; ');
  return new AirlockError('InvalidConfiguration', `Policy file ${label} is invalid: ${described}`);
}

function describeError(text: string, error: DetailedError): string {
  const location = error.sourceLocations?.[0];
  const where = location ? `${lineAndColumn(text, location.start)}: ` : '';
  const label = location?.label ? ` (${location.label})` : '';
  const help = error.help ? ` Hint: ${error.help}` : '';
  return `${where}${error.message}${label}${help}`;
}

/** Cedar reports byte offsets into the UTF-8 text; people read lines and columns. */
function lineAndColumn(text: string, byteOffset: number): string {
  const before = Buffer.from(text, 'utf8').subarray(0, byteOffset).toString('utf8');
  const lines = before.split('\n');
  return `line ${lines.length}, column ${(lines.at(-1)?.length ?? 0) + 1}`;
}
