import { readFile } from 'node:fs/promises';
import { parse, YAMLParseError } from 'yaml';
import { AirlockError } from '@airlock/errors';
import { configSchema, type AirlockConfig } from './schema.js';

/**
 * Reads, expands and validates a configuration once; services receive the frozen result.
 * `${NAME}` in any string value is replaced by that environment variable, so secrets stay out of the file.
 */
export async function loadConfig(path: string | undefined, env: NodeJS.ProcessEnv = process.env): Promise<AirlockConfig> {
  const source = path === undefined ? '{}' : await readSource(path);
  const label = path ?? 'default configuration';
  let document: unknown;
  try {
    document = parse(source) ?? {};
  } catch (error) {
    const where = error instanceof YAMLParseError ? ` (line ${error.linePos?.[0].line ?? '?'})` : '';
    throw new AirlockError('InvalidConfiguration', `${label}: not valid YAML${where}`, { cause: error });
  }
  return parseConfig(expandEnv(document, env, label, []), label);
}

export function parseConfig(document: unknown, label = 'configuration'): AirlockConfig {
  const result = configSchema.safeParse(document);
  if (!result.success) {
    const problems = result.error.issues.map((issue) => `  ${issue.path.join('.') || '(root)'}: ${issue.message}`);
    throw new AirlockError('InvalidConfiguration', `${label} is invalid:\n${problems.join('\n')}`);
  }
  return deepFreeze(result.data);
}

async function readSource(path: string): Promise<string> {
  try {
    return await readFile(path, 'utf8');
  } catch (error) {
    throw new AirlockError('InvalidConfiguration', `cannot read configuration file ${path}`, { cause: error });
  }
}

function expandEnv(value: unknown, env: NodeJS.ProcessEnv, label: string, path: (string | number)[]): unknown {
  if (typeof value === 'string') {
    return value.replace(/\$\{([A-Za-z_][A-Za-z0-9_]*)\}/g, (_, name: string) => {
      const resolved = env[name];
      if (resolved === undefined) {
        throw new AirlockError('InvalidConfiguration', `${label}: ${path.join('.')}: environment variable ${name} is not set`);
      }
      return resolved;
    });
  }
  if (Array.isArray(value)) return value.map((item, index) => expandEnv(item, env, label, [...path, index]));
  if (value !== null && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([key, item]) => [key, expandEnv(item, env, label, [...path, key])]));
  }
  return value;
}

function deepFreeze<T>(value: T): T {
  if (value !== null && typeof value === 'object') {
    for (const item of Object.values(value)) deepFreeze(item);
    Object.freeze(value);
  }
  return value;
}
