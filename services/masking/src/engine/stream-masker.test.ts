import { describe, expect, it } from 'vitest';
import { defaultDetectors } from './detectors.js';
import { maskBuffer } from './mask-buffer.js';
import { createStreamMasker } from './stream-masker.js';

const secretKey = 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY';
const sessionToken = 'IQoJb3JpZ2luX2VjEJr//////////wEaCXVzLWVhc3QtMSJHMEUCIQD' + 'x'.repeat(300) + '==';
const pem = ['-----BEGIN RSA PRIVATE KEY-----', 'MIIEowIBAAKCAQEAx0ln2JvYx', 'q8LrQ3vQ2bJ/aBcD==', '-----END RSA PRIVATE KEY-----'].join('\n');

const stsXml =
  '<AssumeRoleResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><AssumeRoleResult><Credentials>' +
  `<AccessKeyId>ASIAIOSFODNN7EXAMPLE</AccessKeyId><SecretAccessKey>${secretKey}</SecretAccessKey>` +
  `<SessionToken>${sessionToken}</SessionToken><Expiration>2024-01-01T00:00:00Z</Expiration>` +
  '</Credentials></AssumeRoleResult></AssumeRoleResponse>';
const maskedStsXml =
  '<AssumeRoleResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><AssumeRoleResult><Credentials>' +
  '<AccessKeyId>[MASKED:aws-access-key-id]</AccessKeyId><SecretAccessKey>[MASKED:aws-secret-key]</SecretAccessKey>' +
  '<SessionToken>[MASKED:aws-session-token]</SessionToken><Expiration>2024-01-01T00:00:00Z</Expiration>' +
  '</Credentials></AssumeRoleResult></AssumeRoleResponse>';

function mask(text: string) {
  const { data, masked } = maskBuffer(Buffer.from(text, 'utf8'), defaultDetectors);
  return { text: data.toString('utf8'), masked };
}

/** Streams `input` cut at `cuts` (sorted offsets) and returns the joined output. */
function maskSplit(input: Buffer, cuts: number[]): { data: Buffer; masked: unknown } {
  const masker = createStreamMasker(defaultDetectors);
  const outputs: Buffer[] = [];
  let from = 0;
  for (const cut of [...cuts, input.length]) {
    outputs.push(masker.push(input.subarray(from, cut)));
    from = cut;
  }
  outputs.push(masker.end());
  return { data: Buffer.concat(outputs), masked: masker.masked() };
}

/** Deterministic pseudo-random numbers, so that a failing split can be reproduced. */
function random(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state * 1664525 + 1013904223) >>> 0;
    return state / 2 ** 32;
  };
}

describe('masking engine', () => {
  it('masks STS credentials in XML, keeping the tags', () => {
    const { text, masked } = mask(stsXml);
    expect(text).toBe(maskedStsXml);
    expect(masked).toEqual(
      ['aws-access-key-id', 'aws-secret-key', 'aws-session-token'].map((kind) => ({ kind, rule: `detector:${kind}`, location: '', count: 1 })),
    );
  });

  it('masks credentials in JSON, whatever the key case and spacing, and in JSON inside a JSON string', () => {
    const json = `{"roleCredentials":{"accessKeyId":"AKIAIOSFODNN7EXAMPLE","secretAccessKey" : "${secretKey}","sessionToken":"${sessionToken}"}}`;
    expect(mask(json).text).toBe(
      '{"roleCredentials":{"accessKeyId":"[MASKED:aws-access-key-id]","secretAccessKey" : "[MASKED:aws-secret-key]","sessionToken":"[MASKED:aws-session-token]"}}',
    );
    const nested = `{"SecretString":"{\\"SecretAccessKey\\":\\"${secretKey}\\",\\"user\\":\\"bob\\"}"}`;
    expect(mask(nested).text).toBe('{"SecretString":"{\\"SecretAccessKey\\":\\"[MASKED:aws-secret-key]\\",\\"user\\":\\"bob\\"}"}');
    const escapedSlash = `{"SecretAccessKey":"${secretKey.replaceAll('/', '\\/')}"}`;
    expect(mask(escapedSlash).text).toBe('{"SecretAccessKey":"[MASKED:aws-secret-key]"}');
  });

  it('masks PEM private key blocks, but not certificates or public keys', () => {
    const cert = '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----';
    const { text, masked } = mask(`key:\n${pem}\ncert:\n${cert}\n`);
    expect(text).toBe(`key:\n[MASKED:private-key]\ncert:\n${cert}\n`);
    expect(masked).toEqual([{ kind: 'private-key', rule: 'detector:private-key', location: '', count: 1 }]);
    expect(mask('-----BEGIN PRIVATE KEY-----\nabc\n-----END PRIVATE KEY-----').text).toBe('[MASKED:private-key]');
    expect(mask('{"KeyMaterial":"-----BEGIN OPENSSH PRIVATE KEY-----\\nb3Blbn\\n-----END OPENSSH PRIVATE KEY-----"}').text).toBe(
      '{"KeyMaterial":"[MASKED:private-key]"}',
    );
  });

  it('masks a truncated private key to the end of the stream rather than letting it through', () => {
    expect(mask('x -----BEGIN EC PRIVATE KEY-----\nMHcCAQEEIB').text).toBe('x [MASKED:private-key]');
  });

  it('leaves look-alikes alone: longer or lower-case ids, empty values, unrelated text', () => {
    const text = 'AKIAIOSFODNN7EXAMPLEX XAKIAIOSFODNN7EXAMPLE akiaiosfodnn7example AKIA123 <SecretAccessKey></SecretAccessKey> "SessionToken": null';
    expect(mask(text)).toEqual({ text, masked: [] });
  });

  it('passes non-UTF-8 bytes through unchanged', () => {
    const binary = Buffer.from([0xff, 0x00, 0xc3, 0x28, 0x41, 0x4b, 0x49, 0x41, 0x80]);
    const { data } = maskBuffer(binary, defaultDetectors);
    expect(data.equals(binary)).toBe(true);
    const utf8 = `héllo ✓ <SecretAccessKey>${secretKey}</SecretAccessKey> ✓`;
    expect(mask(utf8).text).toBe('héllo ✓ <SecretAccessKey>[MASKED:aws-secret-key]</SecretAccessKey> ✓');
  });

  it('gives the same output for every split into two chunks', () => {
    const input = Buffer.from(`pre AKIAIOSFODNN7EXAMPLE ${stsXml} {"SessionToken":"${sessionToken}"}\n${pem}\nend é`, 'utf8');
    const whole = maskSplit(input, []);
    expect(whole.data.toString()).not.toContain(secretKey);
    for (let cut = 0; cut <= input.length; cut++) {
      const split = maskSplit(input, [cut]);
      expect(split.data.equals(whole.data), `cut at ${cut}`).toBe(true);
      expect(split.masked).toEqual(whole.masked);
    }
  });

  it('gives the same output for every split into three chunks of a small sample', () => {
    const input = Buffer.from(`a<SecretAccessKey>k/1</SecretAccessKey>AKIAIOSFODNN7EXAMPLE"sessionToken":"t"`);
    const whole = maskSplit(input, []);
    expect(whole.data.toString()).toBe(
      'a<SecretAccessKey>[MASKED:aws-secret-key]</SecretAccessKey>[MASKED:aws-access-key-id]"sessionToken":"[MASKED:aws-session-token]"',
    );
    for (let first = 0; first <= input.length; first++) {
      for (let second = first; second <= input.length; second++) {
        expect(maskSplit(input, [first, second]).data.equals(whole.data), `cuts ${first}, ${second}`).toBe(true);
      }
    }
  });

  it('gives the same output for random splits, including one byte at a time', () => {
    const input = Buffer.from(
      Array.from({ length: 20 }, (_, i) => (i % 3 === 0 ? stsXml : i % 3 === 1 ? `{"SecretAccessKey":"${secretKey}"} ${pem}` : 'plain text '.repeat(50))).join('\n'),
    );
    const whole = maskSplit(input, []);
    const next = random(42);
    for (let round = 0; round < 50; round++) {
      const cuts = new Set<number>();
      const count = 1 + Math.floor(next() * 40);
      for (let i = 0; i < count; i++) cuts.add(Math.floor(next() * input.length));
      const split = maskSplit(input, [...cuts].sort((a, b) => a - b));
      expect(split.data.equals(whole.data), `round ${round}`).toBe(true);
      expect(split.masked).toEqual(whole.masked);
    }
    const bytewise = maskSplit(input, Array.from({ length: input.length - 1 }, (_, i) => i + 1));
    expect(bytewise.data.equals(whole.data)).toBe(true);
  });

  it('holds back only a bounded window, and almost nothing for text without any prefix', () => {
    const masker = createStreamMasker(defaultDetectors);
    const plain = Buffer.from('x'.repeat(100_000));
    const out = masker.push(plain);
    expect(plain.length - out.length).toBeLessThan(64);
    // A prefix near the end holds back at most the largest detector window.
    const withPrefix = Buffer.from(`${'y'.repeat(100_000)}-----BEGIN RSA PRIVATE KEY-----\nMII`);
    const held = withPrefix.length - masker.push(withPrefix).length;
    expect(held).toBeGreaterThan(0);
    expect(held).toBeLessThan(20_000);
    expect(Buffer.concat([masker.end()]).toString()).toContain('[MASKED:private-key]');
  });

  it('is linear on hostile input made of prefixes', () => {
    const hostile = Buffer.from(
      '<SessionToken>'.repeat(5000) + '"SecretAccessKey"   :'.repeat(5000) + '-----BEGIN '.repeat(5000) + 'AKIA'.repeat(20000),
    );
    // Completes (no catastrophic backtracking) and masks deterministically.
    const { data } = maskBuffer(hostile, defaultDetectors);
    expect(data.length).toBeGreaterThan(0);
  });
});

describe('detector windows', () => {
  it('cover the longest text each pattern can match', () => {
    const longest: Record<string, string> = {
      'aws-access-key-id': 'AKIA' + 'A'.repeat(16),
      'aws-secret-key': `\\"SecretAccessKey\\"${' '.repeat(16)}:${' '.repeat(16)}\\"${'\\/'.repeat(256)}`,
      'aws-session-token': `\\"SessionToken\\"${' '.repeat(16)}:${' '.repeat(16)}\\"${'\\/'.repeat(8192)}`,
      'private-key': `-----BEGIN ${'A'.repeat(40)}PRIVATE KEY-----${'x'.repeat(16384)}`,
    };
    for (const detector of defaultDetectors) {
      const text = longest[detector.kind] as string;
      detector.pattern.lastIndex = 0;
      const match = detector.pattern.exec(text);
      if (!match) continue; // the XML variants of a kind share its JSON sample
      expect(match[0].length, detector.kind).toBeLessThan(detector.window);
    }
  });
});
