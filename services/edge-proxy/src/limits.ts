import { createHash } from 'node:crypto';
import type { Protocol } from '@airlock/aws-protocol';
import { AirlockError, type AirlockErrorCode } from '@airlock/errors';
import type { Logger } from '@airlock/logging';
import type { StateStore } from '@airlock/state';
import { metrics } from '@airlock/telemetry';

/** A token bucket: `ratePerSecond` calls sustained, up to `burst` at once after a quiet time. */
export interface RateLimit {
  ratePerSecond: number;
  burst: number;
}

/** edge.limits, validated. */
export interface LimitSettings {
  /** Calls this edge serves at once; more are refused with a throttling error. 0: no limit. */
  maxConcurrentCalls: number;
  /** Per principal (issuer and subject); absent: no limit. */
  principal?: RateLimit | undefined;
  /** Per role ARN, whoever uses it; absent: no limit. */
  role?: RateLimit | undefined;
  /**
   * Also count rates across all edges in the state store (Redis), in one-second windows of `ratePerSecond` calls.
   * Each edge still applies its own bucket first; when the store fails, the edge's own bucket alone decides.
   */
  shared: boolean;
}

export interface CallLimits {
  /** Takes a slot for one call, or refuses it in the client's protocol; the returned function gives the slot back. */
  admit(protocol: Protocol): () => void;
  /** Charges one call to its principal's and its role's rates, or refuses it. */
  charge(caller: { issuer: string; subject: string; roleArn: string }, protocol: Protocol): Promise<void>;
}

/** Buckets kept before full (idle) ones are dropped: bounds memory whatever the number of principals. */
const maxBuckets = 10_000;
const sharedWindowMs = 1_000;

/**
 * Protection at the edge. Refusals are the throttling errors AWS itself sends in each protocol, which every SDK and
 * the CLI retry with backoff: S3 (rest-xml) `SlowDown` 503, EC2 `RequestLimitExceeded` 503, query `Throttling` and
 * JSON `ThrottlingException` 400. A throttled call is refused before anything is decided, vended or forwarded.
 */
export function createCallLimits(settings: LimitSettings, state: StateStore | undefined, logger: Logger, now: () => number = () => performance.now()): CallLimits {
  let inFlight = 0;
  const principals = new TokenBuckets(now);
  const roles = new TokenBuckets(now);
  let sharedFailureLoggedAt = -Infinity;

  const overShared = async (kind: 'principal' | 'role', id: string, limit: RateLimit): Promise<boolean> => {
    if (!settings.shared || !state) return false;
    const window = Math.floor(Date.now() / sharedWindowMs);
    const key = `limits:${kind}:${createHash('sha256').update(id).digest('base64url').slice(0, 22)}:${window}`;
    try {
      return (await state.increment(key, { ttlMs: 2 * sharedWindowMs })) > Math.max(1, Math.floor(limit.ratePerSecond));
    } catch (error) {
      // The shared count is a refinement: without it each edge's own bucket still protects the back ends.
      if (now() - sharedFailureLoggedAt > 10_000) {
        sharedFailureLoggedAt = now();
        logger.warn({ err: error }, 'shared rate limits unavailable; each edge limits on its own meanwhile');
      }
      return false;
    }
  };

  const refuse = (limit: 'principal' | 'role' | 'concurrency', protocol: Protocol, message: string): never => {
    metrics.edgeThrottled.inc({ limit });
    throw new AirlockError(throttlingCode(protocol), message, { details: { limit } });
  };

  return {
    admit(protocol) {
      if (settings.maxConcurrentCalls > 0 && inFlight >= settings.maxConcurrentCalls) {
        refuse('concurrency', protocol, 'Airlock is serving as many calls as it takes at once; retry with backoff.');
      }
      inFlight++;
      metrics.edgeInFlight.inc();
      let released = false;
      return () => {
        if (released) return;
        released = true;
        inFlight--;
        metrics.edgeInFlight.dec();
      };
    },
    async charge(caller, protocol) {
      const principal = `${caller.issuer}#${caller.subject}`;
      if (settings.principal && (!principals.take(principal, settings.principal) || (await overShared('principal', principal, settings.principal)))) {
        refuse('principal', protocol, `Rate exceeded: this principal may make ${settings.principal.ratePerSecond} calls per second through Airlock; retry with backoff.`);
      }
      if (settings.role && (!roles.take(caller.roleArn, settings.role) || (await overShared('role', caller.roleArn, settings.role)))) {
        refuse('role', protocol, `Rate exceeded: the role may be used for ${settings.role.ratePerSecond} calls per second through Airlock; retry with backoff.`);
      }
    },
  };
}

/** The throttling error each protocol's SDKs recognise and retry (the codes AWS itself sends). */
export function throttlingCode(protocol: Protocol): AirlockErrorCode {
  if (protocol === 'rest-xml') return 'SlowDown';
  if (protocol === 'ec2') return 'RequestLimitExceeded';
  return 'Throttled';
}

class TokenBuckets {
  private readonly buckets = new Map<string, { tokens: number; at: number }>();
  private sweptAt = -Infinity;

  constructor(private readonly now: () => number) {}

  take(id: string, limit: RateLimit): boolean {
    const at = this.now();
    const bucket = this.buckets.get(id) ?? { tokens: limit.burst, at };
    bucket.tokens = Math.min(limit.burst, bucket.tokens + ((at - bucket.at) / 1000) * limit.ratePerSecond);
    bucket.at = at;
    const taken = bucket.tokens >= 1;
    if (taken) bucket.tokens -= 1;
    this.buckets.set(id, bucket);
    if (this.buckets.size > maxBuckets && at - this.sweptAt > 1000) this.dropFull(limit, at);
    return taken;
  }

  /** A full bucket is the same as no bucket, so dropping those loses nothing. */
  private dropFull(limit: RateLimit, at: number): void {
    this.sweptAt = at;
    for (const [id, bucket] of this.buckets) {
      if (bucket.tokens + ((at - bucket.at) / 1000) * limit.ratePerSecond >= limit.burst) this.buckets.delete(id);
    }
  }
}
