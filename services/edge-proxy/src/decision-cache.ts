import { createHash } from 'node:crypto';
import type { DecideRequest, DecideResponse } from '@airlock/contracts';

export interface DecisionCacheSettings {
  /** How long a decision is reused; also the longest a policy reload takes to reach this edge's cache. 0: no cache. */
  ttlSeconds: number;
  /** Decisions kept at most; the oldest are dropped first. */
  maxEntries: number;
}

/** Request context keys whose values change from one call to the next of the same request; never part of the key. */
const timeVaryingContext = new Set(['time', 'sessionAgeSeconds']);

/**
 * The cache key of a decision request: a digest of everything the policy service reads, so that a cached decision can
 * only answer the same principal (issuer, subject, session, name, groups as a set), the same request (service,
 * operation, action, resources in order, region, role, every parameter) and the same request context (source address,
 * whether the operation was known, principal kind, …). Time and session age are left out; a decision that reads them
 * is never cached (DecideResponse.depends_on_time). Values are length-prefixed by JSON, so no two requests share a key
 * by concatenation.
 */
export function decisionKey(request: DecideRequest): string {
  const { principal, call } = request;
  const sorted = (record: Readonly<Record<string, string>>) => Object.entries(record).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  const canonical = JSON.stringify([
    principal ? [principal.issuer, principal.subject, principal.sessionId, principal.name, [...new Set(principal.groups)].sort()] : null,
    call ? [call.service, call.operation, call.action, call.resources, call.region, call.roleArn, sorted(call.parameters)] : null,
    sorted(request.context).filter(([key]) => !timeVaryingContext.has(key)),
  ]);
  return createHash('sha256').update(canonical).digest('base64url');
}

interface Entry {
  readonly response: DecideResponse;
  readonly expiresAt: number;
}

/**
 * Decisions of the policy service, reused at the edge for identical requests (decisionKey) for a few seconds.
 *
 * Policy versions: every decision carries the version of the policy set that made it. The cache keeps the decisions
 * of one version only, the latest it has been told: a decision of another version empties it. A reload therefore
 * reaches this edge with its first uncached decision, and at the latest after `ttlSeconds`, when every decision the
 * old set made has expired; the policy service needs no channel to the edges for it. Not cached: decisions that
 * depend on the time (`dependsOnTime`), decisions without a version, and failures (the edge fails closed on those).
 * An APPROVAL_REQUIRED decision is cached like any other: the call still goes through approval each time.
 */
export class DecisionCache {
  private readonly entries = new Map<string, Entry>();
  private version = '';
  private counts = { hits: 0, misses: 0 };

  constructor(
    private readonly settings: DecisionCacheSettings,
    private readonly now: () => number = Date.now,
  ) {}

  /** Hits and misses since the edge started (a call with caching off counts as a miss). */
  get stats(): { readonly hits: number; readonly misses: number; readonly size: number } {
    return { ...this.counts, size: this.entries.size };
  }

  /** The cached decision for this request, or `decide()`'s, which is kept for the next identical request. */
  async decide(request: DecideRequest, decide: () => Promise<DecideResponse>): Promise<DecideResponse> {
    if (this.settings.ttlSeconds <= 0) {
      this.counts.misses++;
      return decide();
    }
    const key = decisionKey(request);
    const cached = this.entries.get(key);
    if (cached && cached.expiresAt > this.now() && cached.response.policyVersion === this.version) {
      this.counts.hits++;
      return cached.response;
    }
    this.counts.misses++;
    const response = await decide();
    this.keep(key, response);
    return response;
  }

  private keep(key: string, response: DecideResponse): void {
    if (response.policyVersion === '') return;
    if (response.policyVersion !== this.version) {
      this.entries.clear();
      this.version = response.policyVersion;
    }
    if (response.dependsOnTime) return;
    this.entries.delete(key);
    this.entries.set(key, { response, expiresAt: this.now() + this.settings.ttlSeconds * 1000 });
    // A Map iterates in insertion order: the first key is the oldest entry.
    if (this.entries.size > this.settings.maxEntries) this.entries.delete(this.entries.keys().next().value as string);
  }
}
