import { readFile } from 'node:fs/promises';
import { relative, resolve } from 'node:path';
import { AirlockError } from '@airlock/errors';
import { readAnnotations, type PolicyMeta } from './annotations.js';
import { checkParsePolicySet, policySetTextToParts, policyToJson, type DetailedError } from './cedar.js';

export interface PolicyBundle {
  /** Policy text by Airlock policy id, ready for Cedar. */
  readonly policies: Readonly<Record<string, string>>;
  readonly meta: ReadonlyMap<string, PolicyMeta>;
}

export interface LoadOptions {
  files: readonly string[];
  /** Relative file names resolve against it. @default process.cwd() */
  baseDir?: string;
}

/**
 * Reads and parses every policy file, failing on the first bad one with the file, position and Cedar's own message.
 * Policy ids are the `@id` annotation, else `<file>:<Cedar id>` so that ids stay unique across files.
 */
export async function loadPolicies(options: LoadOptions): Promise<PolicyBundle> {
  if (options.files.length === 0) {
    throw new AirlockError('InvalidConfiguration', 'No policy files are configured; Airlock would deny every call.');
  }
  const baseDir = options.baseDir ?? process.cwd();
  const policies: Record<string, string> = {};
  const meta = new Map<string, PolicyMeta>();
  for (const file of options.files) {
    const path = resolve(baseDir, file);
    const label = relative(baseDir, path) || path;
    for (const policy of parseFile(label, await readPolicyFile(path, label))) {
      const existing = meta.get(policy.meta.id);
      if (existing) {
        throw new AirlockError(
          'InvalidConfiguration',
          `Policy id "${policy.meta.id}" in ${label} is already used in ${existing.source}; @id values must be unique.`,
        );
      }
      policies[policy.meta.id] = policy.text;
      meta.set(policy.meta.id, policy.meta);
    }
  }
  return { policies, meta };
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
export function parseFile(label: string, text: string): { text: string; meta: PolicyMeta }[] {
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
      return { text: policyText, meta: readAnnotations(id, json.json.effect, `${label} (${id})`, annotations) };
    } catch (error) {
      const reason = error instanceof Error ? error.message : String(error);
      throw new AirlockError('InvalidConfiguration', `Policy file ${label} is invalid: policy ${id}: ${reason}`);
    }
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
