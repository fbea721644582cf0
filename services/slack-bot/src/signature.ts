import { createHmac, timingSafeEqual } from 'node:crypto';

/** Slack's limit: a request whose timestamp is further than this from now is refused (replay protection). */
export const defaultToleranceSeconds = 5 * 60;

export interface SignedRequest {
  /** X-Slack-Request-Timestamp, seconds since the epoch. */
  timestamp: string | undefined;
  /** X-Slack-Signature, `v0=<hex>`. */
  signature: string | undefined;
  /** The body exactly as received, before any parsing. */
  rawBody: Buffer;
}

/** `v0=` + hex(HMAC-SHA256(secret, `v0:<timestamp>:<raw body>`)), as Slack computes it. */
export function slackSignature(signingSecret: string, timestamp: string, rawBody: Buffer | string): string {
  const hmac = createHmac('sha256', signingSecret);
  hmac.update(`v0:${timestamp}:`);
  hmac.update(rawBody);
  return `v0=${hmac.digest('hex')}`;
}

/**
 * Verifies a request the way Slack documents it: the timestamp within five minutes of now, and the signature compared
 * in constant time. Any missing or malformed part fails.
 */
export function verifySlackRequest(
  signingSecret: string,
  request: SignedRequest,
  nowMs: number,
  toleranceSeconds: number = defaultToleranceSeconds,
): boolean {
  const { timestamp, signature } = request;
  if (timestamp === undefined || signature === undefined || !/^\d{1,12}$/.test(timestamp)) return false;
  if (Math.abs(nowMs / 1000 - Number(timestamp)) > toleranceSeconds) return false;
  const expected = Buffer.from(slackSignature(signingSecret, timestamp, request.rawBody), 'utf8');
  const presented = Buffer.from(signature, 'utf8');
  return presented.length === expected.length && timingSafeEqual(presented, expected);
}
