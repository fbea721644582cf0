/**
 * A detector finds one kind of secret. Every match starts with one of its literal `prefixes`, which is what lets the
 * stream masker skip text without any of them almost for free and decide, at a chunk boundary, how much to hold back.
 */
export interface Detector {
  /** Reported in counts and written into the replacement, e.g. "aws-secret-key". */
  readonly kind: string;
  /** Literal text every match starts with. */
  readonly prefixes: readonly string[];
  /** Whether `prefixes` match regardless of case (the pattern must agree). */
  readonly ignoreCase: boolean;
  /**
   * Sticky (`y`) pattern tried where a prefix occurs. Capture group 1, when present, is kept as it was (the XML tag or
   * JSON key); the rest of the match is replaced. Linear time: bounded quantifiers only, none nested.
   */
  readonly pattern: RegExp;
  /**
   * How many characters from the match start the pattern can look at, lookahead included. The stream masker decides
   * a position only once this many characters are known (or the stream has ended), which makes its output independent
   * of how the input was split; it is therefore also the most it ever holds back.
   */
  readonly window: number;
}

export function replacementFor(kind: string): string {
  return `[MASKED:${kind}]`;
}
