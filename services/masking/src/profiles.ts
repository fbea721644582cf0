import { AirlockError } from '@airlock/errors';
import { defaultDetectors, type Detector } from './engine/index.js';

/** @default "default" — what an empty profile name means. */
export const defaultProfile = 'default';

/**
 * Masking profiles policies can name (`@masking("...")`). "none" passes answers through untouched; a profile nobody
 * defined is an error rather than a silent pass-through, so a typo in a policy fails closed.
 */
const profiles: Readonly<Record<string, readonly Detector[]>> = {
  default: defaultDetectors,
  none: [],
};

export function detectorsFor(profile: string): { profile: string; detectors: readonly Detector[] } {
  const name = profile === '' ? defaultProfile : profile;
  const detectors = Object.hasOwn(profiles, name) ? profiles[name] : undefined;
  if (!detectors) {
    throw new AirlockError('InvalidRequest', `Unknown masking profile "${name}"; known profiles: ${Object.keys(profiles).join(', ')}.`);
  }
  return { profile: name, detectors };
}
