// The masking engine: pure functions over bytes, usable without gRPC.
export { replacementFor, type Detector } from './detector.js';
export { credentialDetectors, defaultDetectors, entropy, luhn, personalDetectors } from './detectors.js';
export { createStreamMasker, type Replace, type StreamMasker } from './stream-masker.js';
export { maskBuffer } from './mask-buffer.js';
export { compileRules, fieldRulesFor, type FieldRule } from './field-rules.js';
export { applyOperator, pseudonym, pseudonymKey, pseudonymKeyEnv, type Operator } from './operators.js';
export { createAnswerMasker, structureOf, type AnswerContext, type MaskingProfile } from './answer-masker.js';
export { MalformedAnswerError } from './structured.js';
