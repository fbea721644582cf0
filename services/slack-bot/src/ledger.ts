import { randomBytes } from 'node:crypto';
import type { Approval } from '@airlock/contracts';
import { AirlockError } from '@airlock/errors';
import type { StateStore } from '@airlock/state';
import { progressOf, renderApproval } from './render.js';
import type { SlackApi } from './slack-api.js';

/** What the state store keeps per approval and channel: the posted message, or a claim while it is being posted. */
type Entry = { channel: string; ts: string; progress: number } | { claim: string; until: number };

const prefix = 'slack-bot:message:';
const keyOf = (approvalId: string, channel: string) => `${prefix}${approvalId}:${channel}`;
/** Records outlive the approval by a week, long enough for any redelivery or late vote. */
const retentionMs = 7 * 86_400_000;

/** Raised when another bot process is posting the same message right now; the event is retried later. */
export class ClaimHeld extends Error {
  override readonly name = 'ClaimHeld';
}

export interface LedgerOptions {
  state: StateStore;
  slack: SlackApi;
  channels: readonly string[];
  now: () => number;
  /** How long a claim protects a post in progress; past it, a crashed poster's claim is taken over. @default 120000 */
  claimMs?: number;
}

/**
 * The messages posted per approval, so that every event is handled once in effect whatever the redeliveries:
 * a message is posted only after a claim was written with onlyIfAbsent, and its (channel, ts) recorded before the
 * event is acked. Only a process that dies between Slack accepting a post and the record being written can cause
 * a second post, once its claim lapses; nothing is ever dropped.
 */
export class MessageLedger {
  private readonly claimMs: number;

  constructor(private readonly options: LedgerOptions) {
    this.claimMs = options.claimMs ?? 120_000;
  }

  /**
   * Brings every channel's message in line with `approval`: posts where none was posted yet; where one was, updates
   * it in place when `updateExisting` and the approval is at least as far along as what the message shows.
   */
  async apply(approval: Approval, updateExisting: boolean): Promise<{ posted: number; updated: number }> {
    const channels = new Set(this.options.channels);
    for await (const key of this.options.state.scan(`${prefix}${approval.id}:`)) channels.add(key.slice(`${prefix}${approval.id}:`.length));
    let posted = 0;
    let updated = 0;
    for (const channel of channels) {
      const { entry, fresh } = await this.ensurePosted(approval, channel);
      if (fresh) posted++;
      else if (updateExisting && progressOf(approval) >= entry.progress) {
        await this.options.slack.update(entry.channel, entry.ts, renderApproval(approval));
        await this.write(approval, channel, { ...entry, progress: progressOf(approval) });
        updated++;
      }
    }
    return { posted, updated };
  }

  private async ensurePosted(approval: Approval, channel: string): Promise<{ entry: Extract<Entry, { ts: string }>; fresh: boolean }> {
    const { state, slack } = this.options;
    const key = keyOf(approval.id, channel);
    for (let attempt = 0; attempt < 5; attempt++) {
      const raw = await state.get(key);
      const claim = JSON.stringify({ claim: randomBytes(12).toString('base64url'), until: this.options.now() + this.claimMs } satisfies Entry);
      if (raw !== null) {
        const entry = parse(raw);
        if (entry && 'ts' in entry) return { entry, fresh: false };
        if (entry && entry.until > this.options.now()) throw new ClaimHeld(`approval ${approval.id} is being posted to ${channel} by another process`);
        // A claim whose poster died: take it over, atomically, so only one process does.
        if (!(await state.compareAndSet(key, raw, claim, { ttlMs: this.ttlMs(approval) }))) continue;
      } else if (!(await state.set(key, claim, { onlyIfAbsent: true, ttlMs: this.ttlMs(approval) }))) {
        continue;
      }
      let posted: { channel: string; ts: string };
      try {
        posted = await slack.postMessage(channel, renderApproval(approval));
      } catch (error) {
        // Give the claim back so the redelivery can post at once.
        if ((await state.get(key)) === claim) await state.delete(key);
        throw error;
      }
      const entry = { channel: posted.channel, ts: posted.ts, progress: progressOf(approval) };
      await this.write(approval, channel, entry);
      return { entry, fresh: true };
    }
    throw new AirlockError('Conflict', `approval ${approval.id}: the message record for ${channel} kept changing`);
  }

  private async write(approval: Approval, channel: string, entry: Entry): Promise<void> {
    await this.options.state.set(keyOf(approval.id, channel), JSON.stringify(entry), { ttlMs: this.ttlMs(approval) });
  }

  private ttlMs(approval: Approval): number {
    return Math.max(0, approval.expiresAtMs - this.options.now()) + retentionMs;
  }
}

function parse(raw: string): Entry | undefined {
  try {
    const value = JSON.parse(raw) as Entry;
    return typeof value === 'object' && value !== null ? value : undefined;
  } catch {
    return undefined;
  }
}
