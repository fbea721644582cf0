import { createHmac } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { slackSignature, verifySlackRequest } from './signature.js';

const secret = '8f742231b10e8888abcd99yyyzzz85a5';
const now = 1_531_420_618_000;
const body = Buffer.from('payload=%7B%22type%22%3A%22block_actions%22%7D');

describe('Slack request signatures', () => {
  it('computes v0= hex HMAC-SHA256 over v0:timestamp:body', () => {
    const expected = createHmac('sha256', secret).update(`v0:1531420618:${body.toString()}`).digest('hex');
    expect(slackSignature(secret, '1531420618', body)).toBe(`v0=${expected}`);
  });

  it('accepts a good signature within five minutes, either side', () => {
    for (const skew of [0, -299, 299]) {
      const timestamp = String(now / 1000 + skew);
      expect(verifySlackRequest(secret, { timestamp, signature: slackSignature(secret, timestamp, body), rawBody: body }, now)).toBe(true);
    }
  });

  it('refuses stale or future timestamps, even correctly signed', () => {
    for (const skew of [-301, 301, -86_400]) {
      const timestamp = String(now / 1000 + skew);
      expect(verifySlackRequest(secret, { timestamp, signature: slackSignature(secret, timestamp, body), rawBody: body }, now)).toBe(false);
    }
  });

  it('refuses a wrong secret, a changed body, a changed timestamp and malformed headers', () => {
    const timestamp = String(now / 1000);
    const signature = slackSignature(secret, timestamp, body);
    expect(verifySlackRequest('other', { timestamp, signature, rawBody: body }, now)).toBe(false);
    expect(verifySlackRequest(secret, { timestamp, signature, rawBody: Buffer.concat([body, Buffer.from('x')]) }, now)).toBe(false);
    expect(verifySlackRequest(secret, { timestamp: String(now / 1000 + 1), signature, rawBody: body }, now)).toBe(false);
    expect(verifySlackRequest(secret, { timestamp, signature: signature.slice(0, -1), rawBody: body }, now)).toBe(false);
    expect(verifySlackRequest(secret, { timestamp, signature: signature.toUpperCase(), rawBody: body }, now)).toBe(false);
    expect(verifySlackRequest(secret, { timestamp: undefined, signature, rawBody: body }, now)).toBe(false);
    expect(verifySlackRequest(secret, { timestamp, signature: undefined, rawBody: body }, now)).toBe(false);
    expect(verifySlackRequest(secret, { timestamp: '1e9', signature, rawBody: body }, now)).toBe(false);
  });
});
