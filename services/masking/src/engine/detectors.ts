import type { Detector } from './detector.js';

// Bounds on secret sizes. Values longer than a bound are masked up to the bound only; these are generous for what AWS
// issues (secret keys are 40 characters, session tokens a few hundred to ~2,000, RSA-4096 PEM keys ~3,300).
const secretKeyMax = 256;
const sessionTokenMax = 8192;
const privateKeyBodyMax = 16384;
/** `\s{0,16}` around a JSON colon. */
const jsonSpaceMax = 16;

/**
 * AWS access key ids: AKIA (long-term), ASIA (temporary), ALSA, then 16 of [A-Z0-9], standing alone.
 * 20 characters plus the one after it that the lookahead reads.
 */
const accessKeyId: Detector = {
  kind: 'aws-access-key-id',
  prefixes: ['AKIA', 'ASIA', 'ALSA'],
  ignoreCase: false,
  pattern: /(?<![A-Z0-9])(?:AKIA|ASIA|ALSA)[A-Z0-9]{16}(?![A-Z0-9])/y,
  window: 21,
};

/** `<Tag>value` in XML (STS, EC2 answers): the value runs up to the next `<`, so no closing tag is needed to mask it. */
function xmlElement(kind: string, tag: string, max: number): Detector {
  const open = `<${tag}>`;
  return {
    kind,
    prefixes: [open],
    ignoreCase: true,
    pattern: new RegExp(`(${open})[^<]{1,${max}}`, 'iy'),
    window: open.length + max + 1,
  };
}

/**
 * `"Key": "value"` in JSON, and `\"Key\":\"value\"` in JSON carried inside a JSON string (Secrets Manager, SSM).
 * Keys match regardless of case (`secretAccessKey` in SSO answers). The value stops at a quote or backslash, except
 * for `\/`, which some encoders write for `/` — common in secret keys.
 */
function jsonMember(kind: string, key: string, max: number): Detector {
  const head = String.raw`\\?"${key}\\?"\s{0,${jsonSpaceMax}}:\s{0,${jsonSpaceMax}}\\?"`;
  return {
    kind,
    prefixes: [`"${key}"`, `\\"${key}\\"`],
    ignoreCase: true,
    pattern: new RegExp(String.raw`(${head})(?:[^"\\]|\\/){1,${max}}`, 'iy'),
    // Escaped key (key + 4), each space run plus the character that ends it, colon, escaped quote, two characters per
    // value unit and two more to see where the value stops. Generous on purpose: too small would break split invariance.
    window: key.length + 4 + 2 * (jsonSpaceMax + 1) + 1 + 2 + 2 * max + 2,
  };
}

/**
 * PEM private keys, from BEGIN to END. When no END follows within the bound (a truncated or oversized key), the
 * bound's worth of text after the BEGIN line is masked anyway: a partial private key is still a secret.
 */
const pemLabelMax = 40;
const privateKey: Detector = {
  kind: 'private-key',
  prefixes: ['-----BEGIN '],
  ignoreCase: false,
  pattern: new RegExp(
    String.raw`-----BEGIN [A-Z0-9 ]{0,${pemLabelMax}}PRIVATE KEY-----` +
      String.raw`(?:[\s\S]{0,${privateKeyBodyMax}}?-----END [A-Z0-9 ]{0,${pemLabelMax}}PRIVATE KEY-----|[\s\S]{0,${privateKeyBodyMax}})`,
    'y',
  ),
  window: 2 * ('-----BEGIN '.length + pemLabelMax + 'PRIVATE KEY-----'.length) + privateKeyBodyMax + 1,
};

/** Everything the "default" profile looks for, in the order tried where several could start at one position. */
export const defaultDetectors: readonly Detector[] = [
  accessKeyId,
  xmlElement('aws-secret-key', 'SecretAccessKey', secretKeyMax),
  jsonMember('aws-secret-key', 'SecretAccessKey', secretKeyMax),
  xmlElement('aws-session-token', 'SessionToken', sessionTokenMax),
  jsonMember('aws-session-token', 'SessionToken', sessionTokenMax),
  privateKey,
];
