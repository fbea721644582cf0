import type { RuleMatcher } from './field-rules.js';
import { createJsonFieldMasker } from './json.js';
import { redact } from './operators.js';
import { MalformedAnswerError, noBytes, type ByteTransform, type FieldPolicy } from './structured.js';
import { nowhere, Tally } from './tally.js';
import { createXmlFieldMasker } from './xml.js';

const changesNothing: FieldPolicy = { operatorFor: () => redact, key: noBytes, drops: false };

/**
 * Where detector matches lie in a JSON or XML answer that no field rule applies to (`rules` is the operation's empty
 * rule set): the structured tokenizer runs without rules, so it passes every byte unchanged and only marks member
 * paths. An answer that turns out not to be what its content type says (a Lambda payload, an S3 object) is not
 * refused, as it must be where field rules apply: from there on it passes through and its matches have no location.
 */
export function createLocator(structure: 'json' | 'xml', rules: RuleMatcher, operation: string): ByteTransform {
  const tally = new Tally();
  const tracker = structure === 'json' ? createJsonFieldMasker(rules, changesNothing, tally) : createXmlFieldMasker(rules, changesNothing, operation, tally);
  /** Output offset from which locations are unknown (the tracker gave up there). */
  let lostAt = Number.POSITIVE_INFINITY;
  let passed = 0;

  function track(step: () => string, fallback: () => string): string {
    if (lostAt === Number.POSITIVE_INFINITY) {
      try {
        const text = step();
        passed += text.length;
        return text;
      } catch (error) {
        if (!(error instanceof MalformedAnswerError)) throw error;
        lostAt = passed;
      }
    }
    const text = fallback();
    passed += text.length;
    return text;
  }

  return {
    push: (chunk) =>
      track(
        () => tracker.push(chunk),
        () => chunk.toString('latin1'),
      ),
    end: () =>
      track(
        () => tracker.end(),
        () => '',
      ),
    locate: (offset) => (offset >= lostAt ? nowhere : tracker.locate(offset)),
    forget: (offset) => tracker.forget(offset),
  };
}
