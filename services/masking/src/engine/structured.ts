import type { FieldRule } from './field-rules.js';
import type { Operator } from './operators.js';
import type { Place } from './tally.js';

/** How a profile treats field rules: which operator applies to a rule's kind. */
export interface FieldPolicy {
  operatorFor(kind: string): Operator;
  readonly key: Buffer;
  /** Whether any kind is dropped: only then are separators and keys held until a member is decided. */
  readonly drops: boolean;
}

/**
 * A streaming field-rule transform from bytes to latin1 text (one character per byte: what the detectors scan).
 * Output depends only on the whole input, never on how it was split: every decision is taken on complete tokens, and
 * tokens are held only up to a bound.
 */
export interface ByteTransform {
  push(chunk: Buffer): string;
  end(): string;
  /** The member path at an offset of the output (where a detector matched). */
  locate(offset: number): Place;
  /** Offsets before this will not be asked about again. */
  forget(offset: number): void;
}

/** An answer that is not the JSON or XML its content type says: field rules cannot be applied, so it must not pass. */
export class MalformedAnswerError extends Error {
  override readonly name = 'MalformedAnswerError';
}

/** Values longer than this are redacted whatever the operator (keep-last and pseudonym need the whole value). */
export const valueCap = 16_384;

const ruleNames = new WeakMap<FieldRule, string>();
/** How a field rule is named in mask events: `field:` and its member path pattern, e.g. `field:**.Environment.Variables{}`. */
export function fieldRuleName(rule: FieldRule): string {
  const known = ruleNames.get(rule);
  if (known) return known;
  const name = `field:${rule.path.replaceAll('.[]', '[]').replaceAll('.{}', '{}')}`;
  ruleNames.set(rule, name);
  return name;
}

/** A zero-length result, shared: nothing can be written into it. */
export const noBytes = Buffer.alloc(0);

/** latin1 byte-string ↔ JS string. */
export const fromBytes = (text: string): string => Buffer.from(text, 'latin1').toString('utf8');
export const toBytes = (text: string): string => Buffer.from(text, 'utf8').toString('latin1');
