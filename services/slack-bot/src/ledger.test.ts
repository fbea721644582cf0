import { describe, expect, it } from 'vitest';
import { ApprovalStatus, type Approval } from '@airlock/contracts';
import { createEmbeddedStateStore } from '@airlock/state';
import { ClaimHeld, MessageLedger } from './ledger.js';
import type { SlackApi } from './slack-api.js';

const approval = (status = ApprovalStatus.APPROVAL_STATUS_PENDING): Approval => ({
  id: 'ap1',
  status,
  requester: { subject: 'alice', issuer: 'https://idp', groups: [], sessionId: '', name: '' },
  call: undefined,
  fingerprint: 'fp',
  requirement: { approverGroups: ['m'], quorum: 1, pendingTtlSeconds: 900, grantWindowSeconds: 600 },
  votes: [],
  policyId: '',
  reason: '',
  createdAtMs: 0,
  expiresAtMs: 900_000,
  grantExpiresAtMs: 0,
});

function fakeSlack(options: { failPosts?: number } = {}) {
  const posts: string[] = [];
  const updates: string[] = [];
  let failures = options.failPosts ?? 0;
  const api: SlackApi = {
    async postMessage(channel) {
      if (failures-- > 0) throw new Error('slack down');
      posts.push(channel);
      return { channel: `C-${channel}`, ts: `${posts.length}.000` };
    },
    async update(channel, ts, message) {
      updates.push(`${channel}/${ts}:${message.text}`);
    },
    userInfo: async () => undefined,
    openView: async () => undefined,
    respondEphemeral: async () => undefined,
  };
  return { api, posts, updates };
}

describe('MessageLedger', () => {
  it('posts once per channel however often an event comes', async () => {
    const state = await createEmbeddedStateStore();
    const slack = fakeSlack();
    const ledger = new MessageLedger({ state, slack: slack.api, channels: ['a', 'b'], now: () => 0 });
    expect(await ledger.apply(approval(), false)).toEqual({ posted: 2, updated: 0 });
    expect(await ledger.apply(approval(), false)).toEqual({ posted: 0, updated: 0 });
    // Another process (a restarted bot) sees the same records.
    const again = new MessageLedger({ state, slack: slack.api, channels: ['a', 'b'], now: () => 0 });
    expect(await again.apply(approval(ApprovalStatus.APPROVAL_STATUS_APPROVED), true)).toEqual({ posted: 0, updated: 2 });
    expect(slack.posts).toEqual(['a', 'b']);
    expect(slack.updates[0]).toMatch(/^C-a\/1\.000:/);
    // A stale rendering does not replace a decision.
    expect(await again.apply(approval(), true)).toEqual({ posted: 0, updated: 0 });
  });

  it('a decision seen before its request is posted as decided, and the request then posts nothing', async () => {
    const state = await createEmbeddedStateStore();
    const slack = fakeSlack();
    const ledger = new MessageLedger({ state, slack: slack.api, channels: ['a'], now: () => 0 });
    expect(await ledger.apply(approval(ApprovalStatus.APPROVAL_STATUS_DENIED), true)).toEqual({ posted: 1, updated: 0 });
    expect(await ledger.apply(approval(), false)).toEqual({ posted: 0, updated: 0 });
  });

  it('gives the claim back when posting fails, waits for a live claim, takes over a lapsed one', async () => {
    const state = await createEmbeddedStateStore();
    const slack = fakeSlack({ failPosts: 1 });
    let now = 0;
    const ledger = new MessageLedger({ state, slack: slack.api, channels: ['a'], now: () => now, claimMs: 1_000 });
    await expect(ledger.apply(approval(), false)).rejects.toThrow('slack down');
    expect(await ledger.apply(approval(), false)).toEqual({ posted: 1, updated: 0 });

    const other = { ...approval(), id: 'ap2' };
    await state.set('slack-bot:message:ap2:a', JSON.stringify({ claim: 'someone', until: 1_000 }));
    await expect(ledger.apply(other, false)).rejects.toBeInstanceOf(ClaimHeld);
    now = 1_001;
    expect(await ledger.apply(other, false)).toEqual({ posted: 1, updated: 0 });
  });
});
