import type { Approval } from '@airlock/contracts';
import { AirlockError, toAirlockError } from '@airlock/errors';
import type { StateStore } from '@airlock/state';
import { indexKey, recordKey, recordPrefix } from './keys.js';
import { decodeApproval, encodeApproval, retainUntil } from './record.js';

/** Lost compare-and-set races before giving up; each loss means another writer made progress. */
const maxAttempts = 32;

/** Approval records in the state store. Every change is a compare-and-set on the whole record. */
export class ApprovalStore {
  constructor(
    private readonly state: StateStore,
    private readonly now: () => number,
    private readonly retentionMs: number,
  ) {}

  async get(id: string): Promise<Approval | undefined> {
    const raw = await this.call(() => this.state.get(recordKey(id)));
    return raw === null ? undefined : decodeApproval(raw);
  }

  /** Writes a new record; false if the id exists (ids are random, so practically never). */
  async create(approval: Approval): Promise<boolean> {
    return this.call(() =>
      this.state.set(recordKey(approval.id), encodeApproval(approval), { ttlMs: this.ttlOf(approval), onlyIfAbsent: true }),
    );
  }

  /** The id of the current approval for (requester, fingerprint), if any. */
  async currentId(requesterKey: string, fingerprint: string): Promise<string | null> {
    return this.call(() => this.state.get(indexKey(requesterKey, fingerprint)));
  }

  /**
   * Makes `approval` the current one for its (requester, fingerprint), if the index still points at `expectedId`;
   * false when a concurrent request moved it first.
   */
  async makeCurrent(requesterKey: string, approval: Approval, expectedId: string | null): Promise<boolean> {
    return this.call(() =>
      this.state.compareAndSet(indexKey(requesterKey, approval.fingerprint), expectedId, approval.id, { ttlMs: this.ttlOf(approval) }),
    );
  }

  async remove(id: string): Promise<void> {
    await this.call(() => this.state.delete(recordKey(id)));
  }

  /**
   * Applies `change` to the current record until its compare-and-set wins, re-reading after every lost race so that
   * `change` always judges the latest state (two votes at once are both counted, or one is refused, never merged
   * wrongly). `change` returns the next record, or undefined to leave it as it is; what it throws is passed on.
   */
  async update(id: string, change: (current: Approval) => Approval | undefined): Promise<{ before: Approval; after: Approval }> {
    for (let attempt = 0; attempt < maxAttempts; attempt++) {
      const raw = await this.call(() => this.state.get(recordKey(id)));
      if (raw === null) throw notFound(id);
      const before = decodeApproval(raw);
      const after = change(before);
      if (!after) return { before, after: before };
      const written = await this.call(() =>
        this.state.compareAndSet(recordKey(id), raw, encodeApproval(after), { ttlMs: this.ttlOf(after) }),
      );
      if (written) return { before, after };
    }
    throw new AirlockError('Conflict', `Approval ${id} is changing too often to update; try again.`);
  }

  async *list(): AsyncIterable<Approval> {
    for await (const key of this.state.scan(recordPrefix)) {
      const approval = await this.get(key.slice(recordPrefix.length));
      // A record can expire between the scan and the read.
      if (approval) yield approval;
    }
  }

  /** The TTL that keeps a record until `retainUntil`, measured from now. */
  ttlOf(approval: Approval): number {
    return Math.max(1, retainUntil(approval, this.retentionMs) - this.now());
  }

  private async call<T>(operation: () => Promise<T>): Promise<T> {
    try {
      return await operation();
    } catch (error) {
      throw toAirlockError(error, 'DependencyUnavailable', 'The approval state store is unavailable; the request was refused.');
    }
  }
}

export function notFound(id: string): AirlockError {
  return new AirlockError('NotFound', `No approval with id "${id}".`, { details: { approvalId: id } });
}
