import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { EC2Client, TerminateInstancesCommand } from '@aws-sdk/client-ec2';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { interactionsPath } from '@airlock/slack-bot';
import { assumeThroughAirlock } from '../support/agent-credentials.js';
import { refusalOf } from '../support/refusals.js';
import { startEmbeddedAirlock, type AirlockUnderTest } from '../support/airlock.js';
import { createAwsWorld, type AwsWorld } from '../support/aws-world.js';
import { instanceStates, launchInstances } from '../support/ec2-instances.js';
import { startIdp, type TestIdp } from '../support/idp.js';
import { freePort } from '../support/peers.js';
import { signInPolicy, writePolicyFile } from '../support/policies.js';
import { readRecordedEvents, waitForRecordedEvents, type RecordedEvent } from '../support/recordings.js';
import { slackWorkspace, startSlackStandin, type SlackStandin, type SlackWorkspace } from '../support/slack-standin.js';

const repoRoot = fileURLToPath(new URL('../..', import.meta.url));
/** The seed's rule, exactly as shipped: only senior engineers terminate instances, and only with a manager's approval. */
const seedPolicy = join(repoRoot, 'policies/examples/ec2-terminate.cedar');
const seedReason = 'Only senior engineers may terminate EC2 instances, and only after a manager approves the request.';
/** Long enough for a person (this test) to click in Slack; short, so the case where nobody decides stays quick. */
const approvalWaitSeconds = 8;
const channel = 'C0APPROVALS';
const botToken = `xoxb-seed-${randomBytes(6).toString('hex')}`;
const signingSecret = randomBytes(16).toString('hex');

/** The company's people as the IdP knows them: a token's subject is the client id. */
const people = {
  senior: { clientId: 'sam', groups: ['engineers', 'senior-engineers'], name: 'Sam Senior', email: 'sam@example.com' },
  junior: { clientId: 'jo', groups: ['engineers'], name: 'Jo Junior', email: 'jo@example.com' },
  manager: { clientId: 'maria', groups: ['managers'], name: 'Maria Manager', email: 'maria@example.com' },
} as const;
/** The manager in Slack: mapped to her Airlock identity by her confirmed profile e-mail (users.info). */
const managerInSlack = { id: 'U0MARIA', name: 'maria' };

/**
 * The seed's story end to end, with real peers: moto as AWS (signatures and IAM checked), oidc-provider as the company's
 * IdP, the Slack bot talking to a stand-in of Slack's Web API, and one embedded Airlock. A senior engineer's agent — a
 * stock AWS SDK v3 EC2 client pointed at Airlock — calls TerminateInstances; Airlock holds it and the bot posts the
 * request; a manager presses Approve in Slack; the held call completes and moto terminates the instance. A junior
 * engineer is refused with the policy's reason, and a senior's call that nobody approves never reaches moto.
 */
describe('seed scenario: a senior engineer terminates an EC2 instance after a manager approves in Slack', () => {
  let scratch: string;
  let world: AwsWorld;
  let idp: TestIdp;
  let slack: SlackStandin;
  let workspace: SlackWorkspace;
  let airlock: AirlockUnderTest;
  let atMoto: EC2Client;

  beforeAll(async () => {
    scratch = await mkdtemp(join(tmpdir(), 'airlock-seed-'));
    const byClient = new Map<string, { name: string; email: string }>(Object.values(people).map((person) => [person.clientId, person]));
    [world, idp, slack] = await Promise.all([
      createAwsWorld({ rolePolicy: { Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: 'ec2:*', Resource: '*' }] } }),
      startIdp({ audience: 'airlock', claims: (clientId) => ({ name: byClient.get(clientId)?.name, email: byClient.get(clientId)?.email }) }),
      startSlackStandin({ token: botToken, channels: { approvals: channel }, users: [{ ...managerInSlack, real_name: people.manager.name, email: people.manager.email }] }),
    ]);
    const interactionsAddress = `127.0.0.1:${await freePort()}`;
    workspace = slackWorkspace(slack, `http://${interactionsAddress}${interactionsPath}`, signingSecret);
    airlock = await startEmbeddedAirlock({
      config: {
        identity: { issuers: [{ issuer: idp.issuer, audience: 'airlock' }] },
        upstream: { endpoint: world.moto.url },
        // The seed's rule and what it takes to sign in; nothing from the default pack.
        policy: { files: [await writePolicyFile(scratch, 'sign-in.cedar', [signInPolicy]), seedPolicy] },
        edge: { allowedRegions: ['us-east-1'], approvalWaitSeconds },
        slack: {
          apiUrl: slack.apiUrl,
          channels: [channel],
          listen: interactionsAddress,
          people: { [people.manager.email]: { subject: people.manager.clientId, issuer: idp.issuer, groups: [...people.manager.groups] } },
        },
        logging: { level: 'info' },
      },
      env: { ...world.vendingEnv, AIRLOCK_SESSION_KEYS: `seed:${randomBytes(32).toString('base64')}`, SLACK_BOT_TOKEN: botToken, SLACK_SIGNING_SECRET: signingSecret },
    });
    // Straight to moto, as the agent role: how the test creates instances and sees what really happened to them.
    atMoto = new EC2Client({ region: 'us-east-1', endpoint: world.moto.url, credentials: await world.roleCredentialsAtMoto('seed-test-observer') });
  });

  afterAll(async () => {
    atMoto?.destroy();
    await airlock?.stop();
    await Promise.all([world?.stop(), idp?.stop(), slack?.close()]);
    if (scratch) await rm(scratch, { recursive: true, force: true });
  });

  const launchInstance = async (): Promise<string> => (await launchInstances(atMoto))[0]!;
  const stateAtMoto = async (instanceId: string): Promise<string | undefined> => (await instanceStates(atMoto, [instanceId]))[0];

  /** An agent acting for `person`: the person's IdP token exchanged at Airlock's STS, then a stock EC2 client. */
  const agentOf = async (person: (typeof people)[keyof typeof people]): Promise<EC2Client> => {
    const credentials = await assumeThroughAirlock(
      airlock.url,
      world.roleArn,
      await idp.issueToken({ clientId: person.clientId, groups: [...person.groups] }),
      `agent-of-${person.clientId}`,
    );
    return new EC2Client({ region: 'us-east-1', endpoint: airlock.url, credentials, maxAttempts: 1 });
  };

  /** Waits (bounded) for the bot's message about `instanceId`. */
  const postedAbout = async (instanceId: string) => {
    for (let attempt = 0; attempt < 200; attempt++) {
      const message = workspace.messageMentioning(instanceId);
      if (message) return message;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    throw new Error(`the bot posted nothing about ${instanceId}`);
  };
  const responseTo = async (id: string): Promise<Record<string, unknown>> => {
    for (let attempt = 0; attempt < 200; attempt++) {
      const response = slack.responses.find((candidate) => candidate.id === id);
      if (response) return response.body;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    throw new Error(`no answer on response_url ${id}`);
  };
  const callsOn = (events: RecordedEvent[], instanceId: string) =>
    events.filter((event) => event.call?.call?.action === 'ec2:TerminateInstances' && JSON.stringify(event.call.call).includes(instanceId));

  let approvedInstance: string;
  let approvalId: string;

  it("(a) the senior's TerminateInstances is held, posted to Slack, approved there by a manager, and completes at moto", async () => {
    approvedInstance = await launchInstance();
    expect(await stateAtMoto(approvedInstance)).toBe('running');
    const agent = await agentOf(people.senior);
    const held = agent.send(new TerminateInstancesCommand({ InstanceIds: [approvedInstance] }));
    // Awaited below; if an assertion fails first, its refusal must not surface as an unhandled rejection.
    held.catch(() => undefined);

    const message = await postedAbout(approvedInstance);
    expect(message.channel).toBe(channel);
    const posted = JSON.stringify(message.blocks);
    for (const fact of [`(${people.senior.clientId}) @ ${idp.issuer}`, 'ec2:TerminateInstances', approvedInstance, 'ec2-terminate-senior-with-manager-approval', 'managers']) {
      expect(posted).toContain(fact);
    }
    approvalId = workspace.buttonValue(message, 'Approve');
    // Nothing has reached moto while the call is held.
    expect(await stateAtMoto(approvedInstance)).toBe('running');

    const pressed = await workspace.press(managerInSlack, message, 'Approve', 'maria-approves');
    expect(pressed.status).toBe(200);
    expect(String((await responseTo('maria-approves')).text)).toContain('You approved');

    // The held call itself (one attempt, no retry) went through.
    const { TerminatingInstances } = await held;
    agent.destroy();
    expect(TerminatingInstances?.map((instance) => instance.InstanceId)).toEqual([approvedInstance]);
    expect(await stateAtMoto(approvedInstance)).toBe('terminated');

    // The message is updated in place, without its buttons.
    for (let attempt = 0; attempt < 200 && !JSON.stringify(workspace.messageMentioning(approvedInstance)?.blocks).includes('*Approved* by Maria Manager'); attempt++) {
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    const updated = JSON.stringify(workspace.messageMentioning(approvedInstance)?.blocks);
    expect(updated).toContain('*Approved* by Maria Manager');
    expect(updated).not.toContain('"Approve"');
    expect(slack.callsOf('chat.postMessage').filter((call) => JSON.stringify(call.args.blocks).includes(approvalId))).toHaveLength(1);

    // The session record names the call, the approval, and who approved it.
    const events = await waitForRecordedEvents(airlock.dataDir, (recorded) => callsOn(recorded, approvedInstance).some((event) => event.call?.upstreamStatus === 200));
    const released = callsOn(events, approvedInstance).find((event) => event.call?.upstreamStatus === 200);
    expect(released?.call).toMatchObject({
      principal: { subject: people.senior.clientId, issuer: idp.issuer },
      decision: 'DECISION_APPROVAL_REQUIRED',
      approvalId,
      approval: { status: 'APPROVAL_STATUS_APPROVED', votes: [{ voter: { subject: people.manager.clientId, issuer: idp.issuer }, approve: true }] },
    });
  });

  it("(b) the junior's TerminateInstances is denied with the policy's reason; the instance is untouched and nobody is asked", async () => {
    const instanceId = await launchInstance();
    const agent = await agentOf(people.junior);
    const refused = await refusalOf(agent.send(new TerminateInstancesCommand({ InstanceIds: [instanceId] })));
    agent.destroy();
    expect(refused.status).toBe(403);
    expect(refused.name).toBe('AccessDenied');
    expect(refused.message).toContain(seedReason);
    expect(await stateAtMoto(instanceId)).toBe('running');

    const events = await waitForRecordedEvents(airlock.dataDir, (recorded) => callsOn(recorded, instanceId).length > 0);
    expect(callsOn(events, instanceId).map((event) => event.call)).toEqual([
      expect.objectContaining({ principal: expect.objectContaining({ subject: people.junior.clientId }), decision: 'DECISION_DENY', errorCode: 'AccessDenied' }),
    ]);
    expect(callsOn(events, instanceId)[0]?.call?.upstreamStatus).toBeUndefined();
    expect(callsOn(events, instanceId)[0]?.call?.approvalId).toBeUndefined();
    expect(workspace.messageMentioning(instanceId)).toBeUndefined();
  });

  it("(c) the senior's call that a manager denies in Slack never reaches moto, and the agent reads the manager's reason", async () => {
    const instanceId = await launchInstance();
    const agent = await agentOf(people.senior);
    const held = refusalOf(agent.send(new TerminateInstancesCommand({ InstanceIds: [instanceId] })));
    const message = await postedAbout(instanceId);
    const pressed = await workspace.press(managerInSlack, message, 'Deny', 'maria-denies');
    expect(pressed.status).toBe(200);
    expect(await workspace.submitModal(managerInSlack, pressed.triggerId, 'This instance runs the nightly payroll batch.')).toEqual({ status: 200, body: '' });

    const refused = await held;
    agent.destroy();
    expect(refused.name).toBe('AccessDenied');
    expect(refused.message).toContain('denied by Maria Manager');
    expect(refused.message).toContain('This instance runs the nightly payroll batch.');
    expect(await stateAtMoto(instanceId)).toBe('running');

    const events = await waitForRecordedEvents(airlock.dataDir, (recorded) => callsOn(recorded, instanceId).length > 0);
    const [recorded] = callsOn(events, instanceId);
    expect(recorded?.call).toMatchObject({ decision: 'DECISION_APPROVAL_REQUIRED', errorCode: 'AccessDenied', approval: { status: 'APPROVAL_STATUS_DENIED' } });
    expect(recorded?.call?.upstreamStatus).toBeUndefined();
  });

  it("(c) the senior's call that nobody approves is answered pending when the wait ends, and never reaches moto", async () => {
    const instanceId = await launchInstance();
    const agent = await agentOf(people.senior);
    const refused = await refusalOf(agent.send(new TerminateInstancesCommand({ InstanceIds: [instanceId] })));
    agent.destroy();
    expect(refused.name).toBe('AccessDenied');
    const pendingId = /approval ([\w-]+) is pending/.exec(refused.message)?.[1];
    expect(pendingId).toBeDefined();
    expect(refused.message).toContain(`airlock approvals approve ${pendingId}`);
    expect(workspace.buttonValue(await postedAbout(instanceId), 'Approve')).toBe(pendingId);
    expect(await stateAtMoto(instanceId)).toBe('running');

    const events = await waitForRecordedEvents(airlock.dataDir, (recorded) => callsOn(recorded, instanceId).length > 0);
    const [recorded] = callsOn(events, instanceId);
    expect(recorded?.call).toMatchObject({ approvalId: pendingId, errorCode: 'ApprovalPending', approval: { status: 'APPROVAL_STATUS_PENDING' } });
    expect(recorded?.call?.upstreamStatus).toBeUndefined();
  });

  it('reached moto exactly once in all: the approved termination', async () => {
    const events = await readRecordedEvents(airlock.dataDir);
    const forwarded = events.filter((event) => event.call?.call?.action === 'ec2:TerminateInstances' && event.call.upstreamStatus !== undefined);
    expect(forwarded.map((event) => [event.call?.approvalId, event.call?.upstreamStatus])).toEqual([[approvalId, 200]]);
    expect(airlock.output()).not.toContain(botToken);
    expect(airlock.output()).not.toContain(signingSecret);
  });
});
