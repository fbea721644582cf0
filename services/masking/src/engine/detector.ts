/**
 * A detector finds one kind of secret. Every match contains one of its literal `prefixes` (the keyword pre-filter):
 * text without any prefix is skipped almost for free, and at a chunk boundary the prefixes decide how much to hold back.
 */
export interface Detector {
  /** Reported in counts and written into the replacement, e.g. "aws-secret-key". */
  readonly kind: string;
  /** Literal text every match contains (at its start, or `back` characters into it). */
  readonly prefixes: readonly string[];
  /** Whether `prefixes` match regardless of case (the pattern must agree). */
  readonly ignoreCase: boolean;
  /**
   * Sticky (`y`) pattern tried where a match starts. Capture group 1, when present, is kept as it was (the XML tag or
   * JSON key), and so is group 2 (text after the secret, e.g. the `@` of a connection string); the rest is replaced.
   * Linear time: bounded quantifiers only, none nested.
   */
  readonly pattern: RegExp;
  /**
   * How many characters from the prefix the pattern can look at, lookahead included. The stream masker decides a
   * position only once this many characters are known (or the stream has ended), which makes its output independent
   * of how the input was split; it is therefore also the most it ever holds back.
   */
  readonly window: number;
  /**
   * A cheap first test over a short `window` from the prefix (sticky, lookbehinds allowed): when it fails, the position
   * is decided at once without waiting for the detector's whole window, which keeps look-alike keywords from holding
   * text back.
   */
  readonly head?: { readonly pattern: RegExp; readonly window: number };
  /** How far a lookbehind in `pattern` looks before the match start (default 1). */
  readonly lookbehind?: number;
  /**
   * For matches that start before their prefix (e-mail addresses start before the `@`, connection strings before the
   * `://`): the match starts at the first of at most `max` characters before the prefix that all satisfy `chars`.
   */
  readonly back?: { readonly max: number; readonly chars: RegExp };
  /** A last check on the replaced part (entropy, Luhn); false rejects the match. */
  readonly accept?: (secret: string) => boolean;
  /** Personal data rather than a credential: only profiles that ask for personal data use it. */
  readonly personal?: boolean;
}

export function replacementFor(kind: string): string {
  return `[MASKED:${kind}]`;
}
