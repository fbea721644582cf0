import { PassThrough } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApprovalService } from '@airlock/approval';
import { createNatsBus, type Bus } from '@airlock/bus';
import { ApprovalServiceService, ApprovalStatus, type Principal, type RequestApprovalRequest } from '@airlock/contracts';
import { createLogger } from '@airlock/logging';
import { startSlackBot, type MappedIdentity, type SlackBot } from '@airlock/slack-bot';
import { createRedisStateStore, type StateStore } from '@airlock/state';
import { bindService, createGrpcClient, startGrpcServer, type RunningGrpcServer, type ServiceClient } from '@airlock/transport';
import { startNats, startRedis, type Peer } from '../support/peers.js';
import { buttonClick, postInteraction, slackWorkspace, startSlackStandin, viewSubmission, type SlackPerson, type SlackStandin } from '../support/slack-standin.js';

const issuer = 'https://idp.example.com';
const botToken = `xoxb-standin-${Date.now()}`;
const signingSecret = `signing-${Math.random().toString(36).slice(2)}`;
const channel = 'C0APPROVALS';

const requester: Principal = { subject: 'alice', issuer, groups: ['engineers', 'managers'], sessionId: 's-alice', name: 'Alice Engineer' };
const slackUsers = {
  manager: { id: 'U0MANAGER', name: 'maria' },
  lead: { id: 'U0LEAD', name: 'lee' },
  alice: { id: 'U0ALICE', name: 'alice' },
  stranger: { id: 'U0STRANGER', name: 'sam' },
};
/** Explicit mappings; the lead is mapped by e-mail instead. Alice is an approver too, so only the self-approval rule stops her. */
const users: Record<string, MappedIdentity> = {
  [slackUsers.manager.id]: { subject: 'maria', issuer, groups: ['managers'], name: 'Maria Manager' },
  [slackUsers.alice.id]: { subject: 'alice', issuer, groups: ['engineers', 'managers'] },
};
const people: Record<string, MappedIdentity> = { 'Lee@Example.com': { subject: 'lee', issuer, groups: ['managers'] } };

let fingerprint = 0;
function ask(overrides: Partial<RequestApprovalRequest['requirement']> = {}): RequestApprovalRequest {
  return {
    requester,
    call: {
      service: 'ec2',
      operation: 'TerminateInstances',
      action: 'ec2:TerminateInstances',
      resources: ['arn:aws:ec2:eu-west-1:123456789012:instance/i-0abc'],
      region: 'eu-west-1',
      roleArn: 'arn:aws:iam::123456789012:role/agent',
      parameters: { 'InstanceId.1': 'i-0abc', UserData: '****' },
    },
    fingerprint: `fp-${++fingerprint}`,
    requirement: { approverGroups: ['managers'], quorum: 1, pendingTtlSeconds: 600, grantWindowSeconds: 300, ...overrides },
    policyId: 'prod-terminate-needs-manager',
    reason: 'Terminating production instances needs a manager',
  };
}

async function until<T>(what: string, probe: () => T | undefined | Promise<T | undefined>, timeoutMs = 15_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined && value !== false) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

const settle = () => new Promise((resolve) => setTimeout(resolve, 1_000));

describe('slack bot: approval requests posted once, voted on through signed interactions', () => {
  let nats: Peer;
  let redis: Peer;
  let slack: SlackStandin;
  let approvalState: StateStore;
  let approvalBus: Bus;
  let grpc: RunningGrpcServer;
  let approvals: ServiceClient<typeof ApprovalServiceService>;
  let closeClient: () => void;
  let bot: { bot: SlackBot; bus: Bus; state: StateStore } | undefined;
  const logLines = new PassThrough();
  let logs = '';
  logLines.on('data', (chunk: Buffer) => (logs += chunk.toString('utf8')));

  const startBot = async () => {
    const bus = await createNatsBus({ servers: nats.url, name: 'slack-bot-test' });
    const state = await createRedisStateStore({ url: redis.url });
    const started = await startSlackBot({
      bus,
      state,
      approvals,
      botToken,
      signingSecret,
      apiUrl: slack.apiUrl,
      channels: [channel],
      listen: '127.0.0.1:0',
      users,
      people,
      logger: createLogger({ service: 'slack-bot', level: 'debug', destination: logLines }),
      retry: { initialDelayMs: 200, maxDelayMs: 1_000 },
    });
    return { bot: started, bus, state };
  };
  const stopBot = async () => {
    if (!bot) return;
    await bot.bot.close();
    await bot.bus.close();
    await bot.state.close();
    bot = undefined;
  };
  const url = () => bot!.bot.interactionsUrl;
  const postsFor = (approvalId: string) =>
    slack.callsOf('chat.postMessage').filter((call) => call.ok && JSON.stringify(call.args.blocks).includes(approvalId));
  // The bot's interactivity URL changes when it restarts.
  const workspace = () => slackWorkspace(slack, url(), signingSecret);
  const messageFor = (approvalId: string) => workspace().messageMentioning(approvalId);
  const click = (user: SlackPerson, label: 'Approve' | 'Deny', approvalId: string, responseId: string) => workspace().press(user, messageFor(approvalId)!, label, responseId);
  const responseTo = (id: string) => until(`response ${id}`, () => slack.responses.find((response) => response.id === id)?.body);
  const requestPosted = async (request = ask()) => {
    const { approval } = await approvals.requestApproval(request);
    await until('the request to be posted', () => messageFor(approval!.id));
    return approval!;
  };

  beforeAll(async () => {
    [nats, redis] = await Promise.all([startNats(), startRedis()]);
    slack = await startSlackStandin({
      token: botToken,
      channels: { approvals: channel },
      users: [
        { ...slackUsers.manager },
        { ...slackUsers.lead, real_name: 'Lee Lead', email: 'lee@example.com' },
        { ...slackUsers.alice },
        { ...slackUsers.stranger, email: 'sam@elsewhere.example' },
      ],
    });
    approvalState = await createRedisStateStore({ url: redis.url });
    approvalBus = await createNatsBus({ servers: nats.url, name: 'approval-test' });
    const service = await createApprovalService({ state: approvalState, bus: approvalBus, logger: createLogger({ service: 'approval', level: 'silent' }) });
    await service.start?.();
    grpc = await startGrpcServer({ listen: '127.0.0.1:0', services: [bindService(service.definition, service.implementation)] });
    const connection = createGrpcClient(ApprovalServiceService, { address: `127.0.0.1:${grpc.port}`, serviceName: 'approval' });
    approvals = connection.client;
    closeClient = connection.close;
    bot = await startBot();
  });

  afterAll(async () => {
    await stopBot();
    closeClient?.();
    await grpc?.close();
    await approvalBus?.close();
    await approvalState?.close();
    await slack?.close();
    await Promise.all([nats?.stop(), redis?.stop()]);
  });

  it('posts who, what, why and when with Approve and Deny buttons, once, across a restart and a Slack failure', async () => {
    const approval = await requestPosted();
    const [post] = postsFor(approval.id);
    const blocks = JSON.stringify(post!.args.blocks);
    for (const fact of ['Alice Engineer', 'ec2:TerminateInstances', 'instance/i-0abc', 'UserData = ****', 'prod-terminate-needs-manager', 'needs a manager', 'managers', '<!date^']) {
      expect(blocks).toContain(fact);
    }
    expect(post!.args.channel).toBe(channel);
    const actions = (post!.args.blocks as { type: string; elements?: { action_id: string; value: string }[] }[]).find((block) => block.type === 'actions');
    expect(actions?.elements?.map((element) => [element.action_id, element.value])).toEqual([
      ['airlock_approve', approval.id],
      ['airlock_deny', approval.id],
    ]);

    // Down while a request arrives, and Slack failing once when it comes back: posted once, nothing lost, nothing repeated.
    await stopBot();
    const whileDown = await approvals.requestApproval(ask());
    slack.failNext('chat.postMessage', 'internal_error');
    bot = await startBot();
    await until('the request made while the bot was down', () => messageFor(whileDown.approval!.id));
    await settle();
    expect(postsFor(whileDown.approval!.id)).toHaveLength(1);
    expect(postsFor(approval.id)).toHaveLength(1);
    expect(slack.callsOf('chat.postMessage').filter((call) => call.error === 'internal_error')).toHaveLength(1);

    // Asking again for the same call returns the same approval and re-announces nothing new.
    await approvals.requestApproval({ ...ask(), fingerprint: `fp-${fingerprint}` });
    await settle();
    expect(postsFor(whileDown.approval!.id)).toHaveLength(1);
  });

  it('a mapped manager approves: the vote is cast and the message shows who approved', async () => {
    const approval = await requestPosted();
    const answer = await click(slackUsers.manager, 'Approve', approval.id, 'approve-1');
    expect(answer.status).toBe(200);
    expect((await responseTo('approve-1')).response_type).toBe('ephemeral');
    const { approval: after } = await approvals.getApproval({ id: approval.id });
    expect(after?.status).toBe(ApprovalStatus.APPROVAL_STATUS_APPROVED);
    expect(after?.votes.map((vote) => vote.voter?.subject)).toEqual(['maria']);
    const message = await until('the message to show the approval', () => {
      const current = messageFor(approval.id);
      return current && JSON.stringify(current.blocks).includes('*Approved* by Maria Manager') ? current : undefined;
    });
    expect(JSON.stringify(message.blocks)).not.toContain('airlock_approve');
  });

  it('a deny asks for a reason in a modal and records it', async () => {
    const approval = await requestPosted();
    expect((await click(slackUsers.manager, 'Deny', approval.id, 'deny-1')).status).toBe(200);
    const opened = await until('the reason modal', () => slack.callsOf('views.open').find((call) => JSON.stringify(call.args.view).includes(approval.id)));
    expect(opened.ok).toBe(true);
    const view = opened.args.view as { callback_id: string; private_metadata: string };
    const submit = (reason: string) =>
      postInteraction(
        url(),
        viewSubmission({ user: slackUsers.manager, callbackId: view.callback_id, privateMetadata: view.private_metadata, values: { reason: { reason } } }),
        signingSecret,
      );
    const blank = await submit('   ');
    expect(JSON.parse(blank.body)).toMatchObject({ response_action: 'errors', errors: { reason: expect.stringContaining('reason') } });
    const denied = await submit('Not during the freeze');
    expect(denied).toEqual({ status: 200, body: '' });
    const { approval: after } = await approvals.getApproval({ id: approval.id });
    expect(after?.status).toBe(ApprovalStatus.APPROVAL_STATUS_DENIED);
    expect(after?.votes[0]).toMatchObject({ approve: false, reason: 'Not during the freeze' });
    await until('the message to show the denial', () =>
      JSON.stringify(messageFor(approval.id)?.blocks).includes('*Denied* by Maria Manager (maria) @ https://idp.example.com: Not during the freeze') || undefined,
    );
    // A second submission is refused on the modal without touching the decision.
    expect(JSON.parse((await submit('again')).body).errors.reason).toContain('already denied');
  });

  it('a forged signature or a stale timestamp gets 401 and no vote', async () => {
    const approval = await requestPosted();
    const message = messageFor(approval.id)!;
    const payload = buttonClick({
      user: slackUsers.manager,
      actionId: 'airlock_approve',
      approvalId: approval.id,
      channel: message.channel,
      messageTs: message.ts,
      responseUrl: slack.responseUrl('forged'),
      triggerId: slack.triggerId(),
    });
    expect((await postInteraction(url(), payload, 'not-the-signing-secret')).status).toBe(401);
    expect((await postInteraction(url(), payload, signingSecret, { signature: 'v0=' + '0'.repeat(64) })).status).toBe(401);
    expect((await postInteraction(url(), payload, signingSecret, { timestamp: Math.floor(Date.now() / 1000) - 6 * 60 })).status).toBe(401);
    expect((await postInteraction(url(), payload, signingSecret, { timestamp: Math.floor(Date.now() / 1000) + 6 * 60 })).status).toBe(401);
    // Signed, but over a different body than the one sent.
    const tampered = await fetch(url(), {
      method: 'POST',
      headers: (await import('../support/slack-standin.js')).signInteraction(payload, signingSecret).headers,
      body: new URLSearchParams({ payload: JSON.stringify({ ...payload, user: { id: slackUsers.manager.id, name: 'x' } }) }).toString(),
    });
    expect(tampered.status).toBe(401);
    await settle();
    const { approval: after } = await approvals.getApproval({ id: approval.id });
    expect(after?.status).toBe(ApprovalStatus.APPROVAL_STATUS_PENDING);
    expect(after?.votes).toEqual([]);
    expect(slack.responses.find((response) => response.id === 'forged')).toBeUndefined();
  });

  it('the requester cannot approve their own request, and an unmapped user is told so; neither changes the message', async () => {
    const approval = await requestPosted();
    const updatesBefore = messageFor(approval.id)!.updates;
    await click(slackUsers.alice, 'Approve', approval.id, 'self');
    expect(String((await responseTo('self')).text)).toContain('cannot approve their own request');
    await click(slackUsers.stranger, 'Approve', approval.id, 'stranger');
    const refusal = await responseTo('stranger');
    expect(refusal).toMatchObject({ response_type: 'ephemeral', replace_original: false });
    expect(String(refusal.text)).toContain('not mapped');
    await click(slackUsers.stranger, 'Deny', approval.id, 'stranger-deny');
    expect(String((await responseTo('stranger-deny')).text)).toContain('not mapped');
    expect(slack.callsOf('views.open').some((call) => JSON.stringify(call.args.view).includes(approval.id))).toBe(false);
    const { approval: after } = await approvals.getApproval({ id: approval.id });
    expect(after?.status).toBe(ApprovalStatus.APPROVAL_STATUS_PENDING);
    expect(after?.votes).toEqual([]);
    expect(messageFor(approval.id)!.updates).toBe(updatesBefore);
  });

  it('a quorum of two: an explicit mapping and an e-mail mapping each count, and the message follows', async () => {
    const approval = await requestPosted(ask({ quorum: 2 }));
    await click(slackUsers.manager, 'Approve', approval.id, 'q-1');
    await responseTo('q-1');
    await until('the partial count', () => JSON.stringify(messageFor(approval.id)?.blocks).includes('(1 of 2)') || undefined);
    await click(slackUsers.lead, 'Approve', approval.id, 'q-2');
    expect(String((await responseTo('q-2')).text)).toContain('You approved');
    const { approval: after } = await approvals.getApproval({ id: approval.id });
    expect(after?.status).toBe(ApprovalStatus.APPROVAL_STATUS_APPROVED);
    expect(after?.votes.map((vote) => vote.voter?.subject)).toEqual(['maria', 'lee']);
    await until('the approval', () => JSON.stringify(messageFor(approval.id)?.blocks).includes('Lee Lead (lee)') || undefined);
    expect(slack.callsOf('users.info').some((call) => call.args.user === slackUsers.lead.id)).toBe(true);
  });

  it('an expired request is shown as expired', async () => {
    const approval = await requestPosted(ask({ pendingTtlSeconds: 1 }));
    await new Promise((resolve) => setTimeout(resolve, 1_300));
    // Reading settles the expiry and publishes approval.expired.
    const { approval: after } = await approvals.getApproval({ id: approval.id });
    expect(after?.status).toBe(ApprovalStatus.APPROVAL_STATUS_EXPIRED);
    await until('the message to show the expiry', () => JSON.stringify(messageFor(approval.id)?.blocks).includes('*Expired*') || undefined);
    expect(postsFor(approval.id)).toHaveLength(1);
  });

  it('never logs the bot token or the signing secret', () => {
    expect(logs).toContain('slack bot running');
    expect(logs).not.toContain(botToken);
    expect(logs).not.toContain(signingSecret);
  });
});
