import { sameLength } from './byte-range.js';
import type { Detector } from './detector.js';
import { answerFormatOf, compileRules, fieldRulesFor } from './field-rules.js';
import { createJsonFieldMasker } from './json.js';
import { createLocator } from './locator.js';
import { applyOperator, redact, type Operator } from './operators.js';
import { createStreamMasker, type StreamMasker } from './stream-masker.js';
import { noBytes, type ByteTransform } from './structured.js';
import { Tally } from './tally.js';
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
  /**
   * The body is a byte range of a larger one (byte-range.ts): every replacement keeps the length of what it replaces,
   * and field rules stay off, because a slice of JSON or XML cannot be parsed (and ranged reads are of S3 objects,
   * whose body has no field rules).
   */
  ranged?: boolean;
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
 * covers every string value and text body. Both stages are split-invariant, so their composition is too. The
 * field-rule stage also tells the detectors where in the answer each of their matches lies.
 */
export function createAnswerMasker(profile: MaskingProfile, context: AnswerContext, key: Buffer): StreamMasker {
  const operators = profile.operators;
  const operatorFor = (kind: string): Operator => (operators && Object.hasOwn(operators, kind) ? operators[kind]! : redact);
  const policy = { operatorFor, key, drops: Object.values(operators ?? {}).some((operator) => operator.op === 'drop') };
  const replacement = (kind: string, secret: string) => applyOperator(operatorFor(kind), kind, secret, key);
  // The masker hands over secrets as latin1 text, one character per byte: their length is their byte length.
  const replace = context.ranged ? (kind: string, secret: string) => sameLength(replacement(kind, secret), secret.length) : replacement;
  // Member names are data too (a map keyed by e-mail addresses): locations are masked like values before they are kept.
  const clean = (location: string) => (location === '' ? '' : maskText(profile.detectors, location));
  const fieldTally = new Tally(clean);
  let fields: ByteTransform | undefined;
  if (!context.ranged) {
    const rules = compileRules(fieldRulesFor(context.service, context.operation));
    const named = structureOf(context.contentType);
    if (profile.fieldRules && !rules.empty) {
      // A content type that names JSON or XML is believed (SQS answers query-protocol requests in XML); anything
      // else (none, or text/html as moto sends for Secrets Manager) means the protocol's own format: an answer that
      // has field rules is the operation's structured output, never a free-form body.
      const structure = named === 'text' ? (answerFormatOf(context.service) ?? 'json') : named;
      fields = structure === 'json' ? createJsonFieldMasker(rules, policy, fieldTally) : createXmlFieldMasker(rules, policy, context.operation, fieldTally);
    } else if (named !== 'text' && profile.detectors.length > 0) {
      // No field rule applies: the tokenizer still runs, changing nothing, so that detector matches get a location.
      fields = createLocator(named, rules, context.operation);
    }
  }
  const detectors = createStreamMasker(profile.detectors, replace, fields, new Tally(clean));
  if (!fields) return detectors;
  const stage = fields;
  return {
    push(chunk) {
      const text = stage.push(Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength));
      return text.length > 0 ? detectors.pushText(text) : noBytes;
    },
    end() {
      const rest = stage.end();
      return rest.length > 0 ? Buffer.concat([detectors.pushText(rest), detectors.end()]) : detectors.end();
    },
    masked() {
      return [...fieldTally.values(), ...detectors.masked()];
    },
  };
}

const locationMaskers = new WeakMap<readonly Detector[], Map<string, string>>();
/** A short text with the detectors applied (remembered: member names repeat). */
function maskText(detectors: readonly Detector[], text: string): string {
  let known = locationMaskers.get(detectors);
  if (!known) {
    known = new Map();
    locationMaskers.set(detectors, known);
  }
  const cached = known.get(text);
  if (cached !== undefined) return cached;
  const masker = createStreamMasker(detectors);
  const masked = Buffer.concat([masker.push(Buffer.from(text, 'latin1')), masker.end()]).toString('latin1');
  if (known.size > 10_000) known.clear();
  known.set(text, masked);
  return masked;
}
