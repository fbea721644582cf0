import { generateKeyPairSync } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { corpus } from '../corpus/corpus.js';
import { plan } from '../plan.js';
import { profileFor } from '../profiles.js';
import { createAnswerMasker, type AnswerContext } from './answer-masker.js';
import { rangeMargin, sameLength } from './byte-range.js';
import { credentialDetectors, personalDetectors } from './detectors.js';

/**
 * Masking byte ranges (byte-range.ts): replacements keep the secret's length, and a range widened by the profile's
 * margin, masked and cut back, is exactly the same bytes as that range of the whole object masked as a range. That is
 * what lets the edge answer ranged reads with true Content-Ranges and without giving away secrets across range edges.
 */

const key = Buffer.from('test-key');
const s3Text: AnswerContext = { service: 's3', operation: 'GetObject', contentType: 'text/plain', ranged: true };

/** `input` masked as a range, pushed in pieces that end at `cuts` (ascending). */
function maskRanged(profile: string, input: Buffer, cuts: number[] = [], context: AnswerContext = s3Text): Buffer {
  const masker = createAnswerMasker(profileFor(profile), context, key);
  const pieces = [0, ...cuts].map((from, i) => input.subarray(from, cuts[i] ?? input.length));
  return Buffer.concat([...pieces.map((piece) => masker.push(piece)), masker.end()]);
}

/** Deterministic pseudo-random numbers, so that a failing object can be rebuilt. */
function random(seed: number): () => number {
  let state = seed;
  return () => {
    state = (state * 1_103_515_245 + 12_345) % 2 ** 31;
    return state / 2 ** 31;
  };
}

const privateKey = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
/** Planted values: `secret` is the part masking replaces, `before`/`after` the text around it that it keeps. */
const credentials = [
  { before: 'deploy key ', secret: 'AKIAZ7XQ2LPM4NV8RTY3', after: ' rotated' },
  { before: '{"SecretAccessKey": "', secret: 'q9Vx2LmZ8pT4wK7rY3uN6bC1dF5gH0jS2aE4iO8u', after: '"}' },
  { before: 'ci token ', secret: `ghp_${'Kq8ZrT2mWx9LpV4nB7cD1fG5hJ3kS6aQ0eYu'}`, after: ' end' },
  { before: 'dsn=postgres://billing:', secret: 'Pw9xQ2zLmnT4', after: '@db.internal.example.com/billing' },
  { before: 'api_key=', secret: 'k9F2xQ7mZ4pL8wR3tY6uB1nM', after: ' ' },
  { before: '\n', secret: privateKey.trimEnd(), after: '\n' },
  {
    before: 'bearer ',
    secret: 'eyJhbGciOiJSUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiJhZ2VudC0xIiwiaWF0IjoxNzAwMDAwMDAwfQ.c2lnbmF0dXJlLXBhcnQtb2YtdGhlLXRva2Vu',
    after: ' ',
  },
];
const personal = [
  { before: 'contact ', secret: 'jane.doe@example.com', after: ' today' },
  { before: 'card ', secret: '4242 4242 4242 4242', after: ' on file' },
  { before: 'call ', secret: '+44 20 7946 0958', after: ' now' },
];

/** About `size` bytes of log lines with the planted values at random places; where each secret lies. */
function object(seed: number, size: number, planted: readonly (typeof credentials)[number][]): { body: Buffer; secrets: { start: number; end: number }[] } {
  const next = random(seed);
  const words = ['bucket', 'request', 'latency', 'retry', 'region', 'object', 'upload', 'complete', 'ok', 'GET', 'PUT', '200', '404'];
  let text = '';
  const secrets: { start: number; end: number }[] = [];
  while (text.length < size) {
    if (next() < 0.004 * planted.length) {
      const value = planted[Math.floor(next() * planted.length)]!;
      text += value.before;
      secrets.push({ start: text.length, end: text.length + value.secret.length });
      text += `${value.secret}${value.after}`;
    }
    text += `${Array.from({ length: 4 + Math.floor(next() * 8) }, () => words[Math.floor(next() * words.length)]).join(' ')}\n`;
  }
  return { body: Buffer.from(text, 'latin1'), secrets };
}

describe('length-preserving replacement', () => {
  it('cuts or pads the replacement to the length of the secret', () => {
    expect(sameLength('[MASKED:aws-access-key-id]', 20)).toBe('[MASKED:aws-access-k');
    expect(sameLength('[MASKED:jwt]', 16)).toBe('[MASKED:jwt]****');
    expect(sameLength('[MASKED:jwt]', 12)).toBe('[MASKED:jwt]');
  });

  it('keeps every corpus answer, of every profile, at its length, however it is split', () => {
    for (const profile of ['default', 'pii', 'pseudonym']) {
      for (const sample of corpus) {
        const input = Buffer.from(sample.body);
        const context = { service: sample.service, operation: sample.operation, contentType: sample.contentType, ranged: true };
        const whole = maskRanged(profile, input, [], context);
        expect(whole.length, `${profile}: ${sample.name}`).toBe(input.length);
        fc.assert(
          fc.property(fc.uniqueArray(fc.integer({ min: 0, max: input.length }), { maxLength: 12 }), (cuts) => {
            expect(maskRanged(profile, input, cuts.sort((a, b) => a - b), context).equals(whole)).toBe(true);
          }),
          { numRuns: 20 },
        );
      }
    }
  });

  it('applies no field rules: a range of JSON that cannot be parsed is masked by the detectors', () => {
    const cut = Buffer.from('"SecretString":"{\\"password\\":\\"hunter2-is-long\\"}", "Name":"db", "note":"AKIAZ7XQ2LPM4NV8RTY3"}');
    const context = { service: 'secretsmanager', operation: 'GetSecretValue', contentType: 'application/x-amz-json-1.1', ranged: true };
    const masked = maskRanged('default', cut, [], context).toString('latin1');
    expect(masked.length).toBe(cut.length);
    expect(masked).toContain('"note":"[MASKED:aws-access-k"}');
    expect(masked).not.toContain('hunter2-is-long');
  });

  it('cuts keyed pseudonyms and kept digits to the length of the value', () => {
    const input = Buffer.from('password=Zq8vT2mW9xLpa4RkZq8vT2mW9xLpa4Rk mail jane.doe@example.com card 4242424242424242 end');
    const masked = maskRanged('pii', input).toString('latin1');
    expect(masked.length).toBe(input.length);
    expect(masked).toMatch(/^password=\[MASKED:secret-near-keyword\]\*+ mail \[MASKED:email:[0-9a-f]{6} card \[MASKED:card-num end$/);
  });
});

describe('range margin', () => {
  it('covers every detector window, look-back and lookbehind, and is 0 for a profile that masks nothing', () => {
    for (const detectors of [credentialDetectors, [...credentialDetectors, ...personalDetectors]]) {
      const margin = rangeMargin(detectors);
      for (const detector of detectors) expect(margin).toBeGreaterThanOrEqual(detector.window + (detector.back?.max ?? 0) + (detector.lookbehind ?? 1));
    }
    expect(rangeMargin([])).toBe(0);
    expect(plan({ profile: 'none', service: 's3', operation: 'GetObject', contentType: '' }).rangeMargin).toBe(0);
    expect(plan({ profile: 'default', service: 's3', operation: 'GetObject', contentType: '' }).rangeMargin).toBe(rangeMargin(credentialDetectors));
    expect(plan({ profile: 'pii', service: 's3', operation: 'GetObject', contentType: '' }).rangeMargin).toBe(rangeMargin([...credentialDetectors, ...personalDetectors]));
  });

  for (const [profile, planted] of [
    ['default', credentials],
    ['pii', [...credentials, ...personal]],
  ] as const) {
    it(`makes a widened, masked and cut range equal that range of the whole object (${profile})`, () => {
      const { body, secrets } = object(profile.length, 160_000, planted);
      const margin = plan({ profile, service: 's3', operation: 'GetObject', contentType: 'text/plain' }).rangeMargin;
      const whole = maskRanged(profile, body);
      expect(whole.length).toBe(body.length);
      // Masked are the secrets and nothing else.
      const secretAt = new Uint8Array(body.length);
      for (const { start, end } of secrets) secretAt.fill(1, start, end);
      for (let at = 0; at < body.length; at++) if (whole[at] !== body[at]) expect(secretAt[at], `byte ${at} changed`).toBe(1);
      for (const { start, end } of secrets) expect(whole.subarray(start, end).equals(body.subarray(start, end))).toBe(false);

      const read = (first: number, last: number) => {
        const from = Math.max(0, first - margin);
        const to = Math.min(body.length - 1, last + margin);
        return maskRanged(profile, body.subarray(from, to + 1)).subarray(first - from, last - from + 1);
      };
      // Ranges whose edges fall inside each secret, on either side.
      for (const { start, end } of secrets) {
        const inside = start + Math.floor((end - start) / 2);
        for (const [first, last] of [
          [Math.max(0, start - 100), inside],
          [inside, Math.min(body.length - 1, end + 100)],
          [inside, inside],
          [start + 1, end - 2],
        ] as const) {
          expect(read(first, last).equals(whole.subarray(first, last + 1)), `bytes ${first}-${last}`).toBe(true);
        }
      }
      fc.assert(
        fc.property(fc.integer({ min: 0, max: body.length - 1 }), fc.integer({ min: 0, max: 20_000 }), (first, length) => {
          const last = Math.min(body.length - 1, first + length);
          expect(read(first, last).equals(whole.subarray(first, last + 1))).toBe(true);
        }),
        { numRuns: 60 },
      );
    }, 60_000);
  }
});
