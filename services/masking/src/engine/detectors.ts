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
    pattern: new RegExp(`(${open})(?!\\[MASKED:)[^<]{1,${max}}`, 'iy'),
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
    pattern: new RegExp(String.raw`(${head})(?!\[MASKED:)(?:[^"\\]|\\/){1,${max}}`, 'iy'),
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
      String.raw`(?:(?:[^"\\<]|\\[^"]){0,${privateKeyBodyMax}}?-----END [A-Z0-9 ]{0,${pemLabelMax}}PRIVATE KEY-----|(?:[^"\\<]|\\[^"]){0,${privateKeyBodyMax}})`,
    'y',
  ),
  // Escapes (`\n` in JSON) take two characters per body unit.
  window: 2 * ('-----BEGIN '.length + pemLabelMax + 'PRIVATE KEY-----'.length) + 2 * privateKeyBodyMax + 1,
};

/** A token made of a literal prefix and a bounded run of token characters, standing alone. */
function token(kind: string, prefixes: string[], body: string, min: number, max: number): Detector {
  const alternatives = prefixes.map((prefix) => prefix.replace(/[.*+?^${}()|[\]\\/-]/g, '\\$&')).join('|');
  return {
    kind,
    prefixes,
    ignoreCase: false,
    pattern: new RegExp(`(?<![A-Za-z0-9_-])(?:${alternatives})${body}{${min},${max}}(?!${body})`, 'y'),
    window: Math.max(...prefixes.map((prefix) => prefix.length)) + max + 1,
  };
}

/** JSON Web Tokens (and JWS/JWE compact forms): base64url header starting `{"`, payload, signature. */
const jwt: Detector = {
  kind: 'jwt',
  prefixes: ['eyJ'],
  ignoreCase: false,
  head: { pattern: /(?<![A-Za-z0-9_-])eyJ[A-Za-z0-9_-]{8}/y, window: 12 },
  pattern: /(?<![A-Za-z0-9_-])eyJ[A-Za-z0-9_-]{8,2048}\.[A-Za-z0-9_-]{2,8192}\.[A-Za-z0-9_-]{0,2048}(?![A-Za-z0-9_-])/y,
  window: 3 + 2048 + 1 + 8192 + 1 + 2048 + 1,
};

/**
 * Connection strings and URLs with a password: `scheme://user:password@host`. Only the password is replaced; the
 * scheme, user and host stay readable. The scheme is found by looking back from the `://` prefix.
 */
const connectionString: Detector = {
  kind: 'connection-password',
  prefixes: ['://'],
  ignoreCase: false,
  back: { max: 20, chars: /[A-Za-z0-9+.-]/ },
  lookbehind: 21,
  pattern: /([A-Za-z][A-Za-z0-9+.-]{0,19}:\/\/[^\s:/@"'<>\\]{0,128}:)[^\s/@"'<>\\]{1,128}(@)(?=[A-Za-z0-9[])/y,
  window: 3 + 128 + 1 + 128 + 2,
};

const slackToken = token('slack-token', ['xoxb-', 'xoxp-', 'xoxa-', 'xoxr-', 'xoxs-', 'xoxe-', 'xapp-'], '[A-Za-z0-9-]', 10, 250);
const slackWebhook: Detector = {
  kind: 'slack-webhook',
  prefixes: ['hooks.slack.com/services/'],
  ignoreCase: false,
  pattern: /(hooks\.slack\.com\/services\/)[A-Za-z0-9_/-]{20,120}/y,
  window: 25 + 120 + 1,
};
const githubToken = token('github-token', ['ghp_', 'gho_', 'ghu_', 'ghs_', 'ghr_'], '[A-Za-z0-9]', 36, 251);
const githubPat = token('github-token', ['github_pat_'], '[A-Za-z0-9_]', 22, 255);
const gitlabToken = token('gitlab-token', ['glpat-', 'gldt-', 'glrt-', 'glptt-'], '[A-Za-z0-9_-]', 20, 64);
const stripeKey = token('stripe-key', ['sk_live_', 'sk_test_', 'rk_live_', 'rk_test_', 'whsec_'], '[A-Za-z0-9]', 16, 247);

/** Shannon entropy in bits per character. */
export function entropy(text: string): number {
  const counts = new Map<string, number>();
  for (const char of text) counts.set(char, (counts.get(char) ?? 0) + 1);
  let bits = 0;
  for (const count of counts.values()) bits -= (count / text.length) * Math.log2(count / text.length);
  return bits;
}

/**
 * A secret-looking value right after a key named like a secret: `"db_password": "…"`, `api_key=…`,
 * `\"clientSecret\":\"…\"`. The key must end with the keyword (so `TokenType` or `PasswordLastUsed` do not count) and
 * must not be a pagination or idempotency token (`NextToken`, `ClientToken`) nor a part of an ARN or path (`:secret:`). The value must look random enough:
 * at least 8 characters and 3 bits of entropy per character, which leaves dates, ARNs of words and "Bearer" alone.
 */
const keywordSecretValueMax = 256;
const keywordSecret: Detector = {
  kind: 'secret-near-keyword',
  prefixes: ['password', 'passwd', 'secret', 'token', 'api_key', 'apikey', 'api-key'],
  ignoreCase: true,
  lookbehind: 16,
  pattern: new RegExp(
    String.raw`(?<![:/])(?<!next|continuation|pagination|client|starting|page|sync|resume|stream|cancel|start|marker|session)` +
      String.raw`((?:password|passwd|secret|token|api_key|apikey|api-key)s?\\?"?\s{0,4}[:=]\s{0,4}\\?["']?)` +
      String.raw`[A-Za-z0-9+/=_.!#$%*~^-]{8,${keywordSecretValueMax}}(?![A-Za-z0-9+/=_.!#$%*~^-])`,
    'iy',
  ),
  window: 8 + 3 + 4 + 1 + 4 + 2 + keywordSecretValueMax + 1,
  head: {
    pattern: new RegExp(
      String.raw`(?<![:/])(?<!next|continuation|pagination|client|starting|page|sync|resume|stream|cancel|start|marker|session)` +
        String.raw`(?:password|passwd|secret|token|api_key|apikey|api-key)s?\\?"?\s{0,4}[:=]`,
      'iy',
    ),
    window: 8 + 3 + 4 + 1 + 1,
  },
  accept: (secret) => entropy(secret) >= 3,
};

const emailLocal = /[A-Za-z0-9._%+-]/;
/** E-mail addresses (personal data): the local part is found by looking back from the `@`. */
const email: Detector = {
  kind: 'email',
  prefixes: ['@'],
  ignoreCase: false,
  personal: true,
  back: { max: 64, chars: emailLocal },
  lookbehind: 65,
  pattern: /(?<![A-Za-z0-9._%+-])[A-Za-z0-9_%+-][A-Za-z0-9._%+-]{0,63}@[A-Za-z0-9-]{1,63}(?:\.[A-Za-z0-9-]{1,63}){0,6}\.[A-Za-z]{2,24}(?![A-Za-z0-9-])/y,
  window: 1 + 7 * 64 + 26,
};

/** Luhn check over the digits of a candidate card number. */
export function luhn(text: string): boolean {
  const digits = text.replace(/[^0-9]/g, '');
  if (digits.length < 13 || digits.length > 19) return false;
  let sum = 0;
  for (let i = 0; i < digits.length; i++) {
    let digit = digits.charCodeAt(digits.length - 1 - i) - 48;
    if (i % 2 === 1) {
      digit *= 2;
      if (digit > 9) digit -= 9;
    }
    sum += digit;
  }
  return sum % 10 === 0;
}

/** Payment card numbers (personal data): 13–19 digits of the major issuers, optionally in groups, passing Luhn. */
const cardNumber: Detector = {
  kind: 'card-number',
  prefixes: ['2', '3', '4', '5', '6'],
  ignoreCase: false,
  personal: true,
  pattern: /(?<![0-9A-Za-z.-])[2-6][0-9]{3}(?:[ -]?[0-9]{2,4}){2,4}(?![0-9A-Za-z])/y,
  window: 4 + 4 * 5 + 1,
  accept: luhn,
};

/**
 * Phone numbers (personal data) in international form (`+44 20 7946 0958`, `+14155550100`) or with an area code in
 * parentheses (`(415) 555-0100`). Plain digit runs are left alone: in AWS answers they are ids, sizes and times.
 */
const phoneNumber: Detector = {
  kind: 'phone-number',
  prefixes: ['+', '('],
  ignoreCase: false,
  personal: true,
  pattern: /(?<![0-9A-Za-z])(?:\+[1-9][0-9]{0,2}[ .-]?(?:\(?[0-9]{1,4}\)?[ .-]?){1,4}[0-9]{2,6}|\([0-9]{3}\) ?[0-9]{3}[ .-][0-9]{4})(?![0-9])/y,
  window: 1 + 3 + 1 + 4 * 7 + 6 + 1,
  accept: (secret) => {
    const digits = secret.replace(/[^0-9]/g, '').length;
    return digits >= 8 && digits <= 15;
  },
};

/** Credentials and secrets: what every profile but "none" masks, in the order tried where several could start at one position. */
export const credentialDetectors: readonly Detector[] = [
  accessKeyId,
  xmlElement('aws-secret-key', 'SecretAccessKey', secretKeyMax),
  jsonMember('aws-secret-key', 'SecretAccessKey', secretKeyMax),
  xmlElement('aws-session-token', 'SessionToken', sessionTokenMax),
  jsonMember('aws-session-token', 'SessionToken', sessionTokenMax),
  privateKey,
  jwt,
  connectionString,
  slackToken,
  slackWebhook,
  githubToken,
  githubPat,
  gitlabToken,
  stripeKey,
  keywordSecret,
];

/** Personal data: e-mail addresses, card numbers, phone numbers. */
export const personalDetectors: readonly Detector[] = [email, cardNumber, phoneNumber];

/** What the "default" profile looks for. */
export const defaultDetectors: readonly Detector[] = credentialDetectors;
