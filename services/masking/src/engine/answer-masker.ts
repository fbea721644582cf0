import type { MaskedValue } from '@airlock/contracts';
import type { Detector } from './detector.js';
import { compileRules, fieldRulesFor } from './field-rules.js';
import { applyOperator, redact, type Operator } from './operators.js';
import { createStreamMasker, type StreamMasker } from './stream-masker.js';
import { createJsonFieldMasker, type TextTransform } from './structured.js';
import { createXmlFieldMasker } from './xml.js';

/** What a profile does: which detectors run, whether field rules apply, and the operator per kind. */
export interface MaskingProfile {
  readonly name: string;
  readonly detectors: readonly Detector[];
  readonly fieldRules: boolean;
  /** Operator by kind (field rule kinds and detector kinds); anything not named is redacted. */
  readonly operators?: Readonly<Record<string, Operator>>;
}

export interface AnswerContext {
  service: string;
  operation: string;
  contentType: string;
}

/** Which structure an answer has, from its content type (and, without one, from the service's protocol guess). */
export function structureOf(contentType: string): 'json' | 'xml' | 'text' {
  const type = (contentType.split(';')[0] ?? '').trim().toLowerCase();
  if (type.includes('json')) return 'json';
  if (type.includes('xml')) return 'xml';
  return 'text';
}

/**
 * Masks one answer: field rules first (JSON or XML, by path), then detectors over every byte of the result, which
 * covers every string value and text body. Both stages are split-invariant, so their composition is too.
 */
export function createAnswerMasker(profile: MaskingProfile, context: AnswerContext, key: Buffer): StreamMasker {
  const operatorFor = (kind: string): Operator => {
    const operators = profile.operators;
    return operators && Object.hasOwn(operators, kind) ? operators[kind]! : redact;
  };
  const policy = { operatorFor, key };
  const detectors = createStreamMasker(profile.detectors, (kind, secret) => applyOperator(operatorFor(kind), kind, secret, key));
  let fields: TextTransform | undefined;
  if (profile.fieldRules) {
    const rules = compileRules(fieldRulesFor(context.service, context.operation));
    const structure = structureOf(context.contentType);
    // A JSON answer without a content type (some json services) is recognised by the JSON transform's own tolerance.
    if (!rules.empty) {
      if (structure === 'json' || (structure === 'text' && context.contentType === '')) fields = createJsonFieldMasker(rules, policy);
      else if (structure === 'xml') fields = createXmlFieldMasker(rules, policy, context.operation);
    }
  }
  if (!fields) return detectors;
  const stage = fields;
  return {
    push(chunk) {
      const text = stage.push(Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength).toString('latin1'));
      return text.length > 0 ? detectors.push(Buffer.from(text, 'latin1')) : Buffer.alloc(0);
    },
    end() {
      const rest = stage.end();
      return Buffer.concat([detectors.push(Buffer.from(rest, 'latin1')), detectors.end()]);
    },
    masked(): MaskedValue[] {
      const all = new Map<string, number>();
      for (const { kind, count } of detectors.masked()) all.set(kind, count);
      for (const [kind, count] of stage.counts) all.set(kind, (all.get(kind) ?? 0) + count);
      return [...all].sort(([a], [b]) => (a < b ? -1 : 1)).map(([kind, count]) => ({ kind, count }));
    },
  };
}
