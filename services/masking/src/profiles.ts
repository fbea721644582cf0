import { AirlockError } from '@airlock/errors';
import { credentialDetectors, personalDetectors, type MaskingProfile } from './engine/index.js';

/** @default "default" — what an empty profile name means. */
export const defaultProfile = 'default';

/**
 * Masking profiles policies can name (`@masking("...")`):
 * - default: every credential and secret (field rules and credential detectors), redacted
 * - pii: default, plus personal data (e-mail addresses as pseudonyms so equal addresses stay recognisable, card
 *   numbers with their last 4 digits, phone numbers redacted)
 * - pseudonym: default, with secrets replaced by keyed pseudonyms (an agent can tell equal secrets apart)
 * - none: answers pass untouched
 * A profile nobody defined is an error rather than a silent pass-through, so a typo in a policy fails closed.
 */
const profiles: Readonly<Record<string, MaskingProfile>> = {
  default: { name: 'default', detectors: credentialDetectors, fieldRules: true },
  pii: {
    name: 'pii',
    detectors: [...credentialDetectors, ...personalDetectors],
    fieldRules: true,
    operators: { email: { op: 'pseudonym' }, 'card-number': { op: 'keep-last', n: 4 } },
  },
  pseudonym: {
    name: 'pseudonym',
    detectors: credentialDetectors,
    fieldRules: true,
    operators: Object.fromEntries(
      ['secret-string', 'parameter-value', 'env-value', 'password', 'sensitive', 'secret-near-keyword', 'connection-password'].map((kind) => [
        kind,
        { op: 'pseudonym' as const },
      ]),
    ),
  },
  none: { name: 'none', detectors: [], fieldRules: false },
};

export function profileFor(profile: string): MaskingProfile {
  const name = profile === '' ? defaultProfile : profile;
  const found = Object.hasOwn(profiles, name) ? profiles[name] : undefined;
  if (!found) {
    throw new AirlockError('InvalidRequest', `Unknown masking profile "${name}"; known profiles: ${Object.keys(profiles).join(', ')}.`);
  }
  return found;
}

/** Profiles defined in code for tests and tools (e.g. one that drops fields). */
export function isPassThrough(profile: MaskingProfile): boolean {
  return profile.detectors.length === 0 && !profile.fieldRules;
}
