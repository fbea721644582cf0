import type { MaskedValue } from '@airlock/contracts';
import type { Detector } from './detector.js';
import { createStreamMasker } from './stream-masker.js';

/** Masks a whole body at once; the same result as streaming it in any split. */
export function maskBuffer(input: Uint8Array, detectors: readonly Detector[]): { data: Buffer; masked: MaskedValue[] } {
  const masker = createStreamMasker(detectors);
  const data = Buffer.concat([masker.push(input), masker.end()]);
  return { data, masked: masker.masked() };
}
