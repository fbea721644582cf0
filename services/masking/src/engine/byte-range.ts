import type { Detector } from './detector.js';

/**
 * What masking a byte range of a larger body (an S3 ranged read) needs.
 *
 * The edge cannot mask the range alone: a secret that straddles one of its edges is not a match in either part, so two
 * ranged reads would return both halves unmasked. It therefore widens the range by `rangeMargin` bytes on both sides,
 * masks the wider body and cuts the requested bytes out of the result. Cutting at the right offsets needs replacements
 * that keep every offset where it was: `sameLength`.
 */

/**
 * How far the detectors look around any byte of a match, in bytes: a match reaching into a range starts at most
 * `window + back` bytes before it (a match runs from up to `back` before its prefix to at most `window` after it) and
 * its lookbehind reads `lookbehind` more; symmetrically after it. A range widened by this much on both sides holds every
 * match that touches the range whole, with the context that decides it. 0 for detectors that find nothing.
 *
 * Not covered: a match the whole body would not have (the widened body starts inside a match of the whole body, or in
 * a lookbehind's blind spot) that swallows the beginning of a secret which reaches into the range. That takes two
 * candidate matches overlapping each other, which secrets in real text do not produce.
 */
export function rangeMargin(detectors: readonly Detector[]): number {
  if (detectors.length === 0) return 0;
  const most = (of: (detector: Detector) => number) => Math.max(0, ...detectors.map(of));
  return most((detector) => detector.window) + most((detector) => detector.back?.max ?? 0) + most((detector) => detector.lookbehind ?? 1);
}

/**
 * A replacement made exactly `length` bytes long: cut, or padded with `*`. Replacements are ASCII (the marker, the
 * kind, hex, and for keep-last the kept characters of the latin1 text the masker works on), one byte per character.
 * Cutting only ever removes marker text, so nothing of the secret shows that the full replacement would not show.
 */
export function sameLength(replacement: string, length: number): string {
  return replacement.length >= length ? replacement.slice(0, length) : replacement.padEnd(length, '*');
}
