import { parseArgs, type ParseArgsConfig } from 'node:util';
import { UsageError } from '../people/errors.js';

type Options = NonNullable<ParseArgsConfig['options']>;

/** What the options parsed to: a string or a boolean each, by their declared type (none is `multiple`). */
export interface Parsed<O extends Options> {
  values: { [K in keyof O]?: O[K]['type'] extends 'boolean' ? boolean : string };
  positionals: string[];
}

/** node:util parseArgs, strict, whose complaints (unknown option, missing value) become usage errors (exit 2). */
export function parseOptions<O extends Options>(argv: string[], options: O, allowPositionals = false): Parsed<O> {
  try {
    const { values, positionals } = parseArgs({ args: argv, options, allowPositionals, strict: true });
    return { values: values as Parsed<O>['values'], positionals };
  } catch (error) {
    if (error instanceof TypeError && 'code' in error && String(error.code).startsWith('ERR_PARSE_ARGS')) throw new UsageError(error.message);
    throw error;
  }
}

export function required(value: string | undefined, flag: string): string {
  if (!value) throw new UsageError(`${flag} is required`);
  return value;
}

/** A whole number of seconds within bounds, from an option's text. */
export function seconds(value: string | undefined, flag: string, min: number, max: number): number | undefined {
  if (value === undefined) return undefined;
  const parsed = Number(value);
  if (!Number.isInteger(parsed) || parsed < min || parsed > max) throw new UsageError(`${flag} must be a whole number of seconds from ${min} to ${max}`);
  return parsed;
}

const roleArnPattern = /^arn:aws(-cn|-us-gov)?:iam::\d{12}:role\/[\w+=,.@/-]{1,512}$/;

export function roleArn(value: string | undefined): string {
  const arn = required(value, '--role');
  if (!roleArnPattern.test(arn)) throw new UsageError(`--role must be an IAM role ARN such as arn:aws:iam::123456789012:role/agent, not ${JSON.stringify(arn)}`);
  return arn;
}

export const helpOption = { help: { type: 'boolean', short: 'h' } } as const;
