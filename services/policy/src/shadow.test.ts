import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Decision, RecordingLevel, type DecideRequest, type DecideResponse } from '@airlock/contracts';
import { createLogger } from '@airlock/logging';
import { bindInProcess } from '@airlock/transport';
import { createPolicyService } from './service.js';
import { differences } from './shadow.js';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'airlock-shadow-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

function capturingLogger() {
  const lines: Record<string, unknown>[] = [];
  const destination = new Writable({
    write(chunk: Buffer, _encoding, done) {
      for (const line of chunk.toString('utf8').split('\n')) if (line.trim() !== '') lines.push(JSON.parse(line) as Record<string, unknown>);
      done();
    },
  });
  return { lines, logger: createLogger({ service: 'policy-test', level: 'info', destination }) };
}

function ask(action: string, groups: string[] = [], parameters: Record<string, string> = {}): DecideRequest {
  const [service = '', operation = ''] = action.split(':');
  return {
    principal: { subject: 'sam', issuer: 'https://idp.example.com', groups, sessionId: 's', name: 'Sam' },
    call: { service, operation, action, resources: ['arn:aws:ec2:eu-west-1:123456789012:instance/i-1'], region: 'eu-west-1', roleArn: '', parameters },
    context: {},
  };
}

async function until(condition: () => boolean): Promise<void> {
  while (!condition()) await new Promise((resolve) => setTimeout(resolve, 10));
}

// The first policy set a test worker loads waits for Cedar's validator to warm up: about a second, more on a busy machine.
describe('shadow mode', { timeout: 30_000 }, () => {
  it('answers with the live set, and logs and counts where the candidate would have decided differently', async () => {
    await writeFile(join(dir, 'live.cedar'), '@id("allow-all") permit (principal, action, resource);');
    await writeFile(
      join(dir, 'candidate.cedar'),
      `@id("allow-all") permit (principal, action, resource) unless { action == Airlock::Action::"ec2:TerminateInstances" };
       @id("terminate-needs-manager") @approval("managers") permit (principal in Airlock::Group::"senior-engineers", action == Airlock::Action::"ec2:TerminateInstances", resource);`,
    );
    const { lines, logger } = capturingLogger();
    const service = await createPolicyService({ files: ['live.cedar'], baseDir: dir, logger, watch: false, reloadSignal: false, shadow: { files: ['candidate.cedar'] } });
    const client = bindInProcess(service.definition, service.implementation);

    expect((await client.decide(ask('ec2:DescribeInstances'))).decision).toBe(Decision.DECISION_ALLOW);
    const senior = await client.decide(ask('ec2:TerminateInstances', ['senior-engineers'], { DryRun: 'secret-ish' }));
    expect(senior).toMatchObject({ decision: Decision.DECISION_ALLOW, policyIds: ['allow-all'] });
    expect((await client.decide(ask('ec2:TerminateInstances', ['engineers']))).decision).toBe(Decision.DECISION_ALLOW);
    await until(() => service.shadow!.stats.compared === 3);

    expect(service.shadow!.stats).toEqual({ compared: 3, differed: 2, failed: 0 });
    const diffs = lines.filter((line) => line['event'] === 'policy.shadow.diff');
    expect(diffs).toHaveLength(2);
    expect(diffs[0]).toMatchObject({
      msg: 'shadow policy set would have decided differently',
      fields: ['decision', 'policyIds', 'approval'],
      principal: 'https://idp.example.com#sam',
      groups: ['senior-engineers'],
      action: 'ec2:TerminateInstances',
      resources: ['arn:aws:ec2:eu-west-1:123456789012:instance/i-1'],
      live: { decision: 'ALLOW', policyIds: ['allow-all'], version: service.engine.snapshot.version },
      candidate: {
        decision: 'APPROVAL_REQUIRED',
        policyIds: ['terminate-needs-manager'],
        approval: { approverGroups: ['managers'], quorum: 1 },
        version: service.shadow!.candidate.snapshot.version,
      },
    });
    expect(diffs[1]).toMatchObject({ fields: ['decision', 'policyIds'], candidate: { decision: 'DENY', policyIds: [] } });
    // The call's parameters never reach the log.
    expect(JSON.stringify(lines)).not.toContain('secret-ish');

    // Reloading reloads the candidate too: once it matches the live set, differences stop.
    await writeFile(join(dir, 'candidate.cedar'), '@id("allow-all") permit (principal, action, resource);');
    expect(await service.reload()).toMatchObject({ ok: true });
    await client.decide(ask('ec2:TerminateInstances', ['engineers']));
    await until(() => service.shadow!.stats.compared === 4);
    expect(service.shadow!.stats).toEqual({ compared: 4, differed: 2, failed: 0 });
    await service.close();
    // The running counts are logged when the service stops (and every shadow.reportSeconds while it serves).
    expect(lines.filter((line) => line['event'] === 'policy.shadow.summary').at(-1)).toMatchObject({ compared: 4, differed: 2, failed: 0, candidateVersion: service.shadow!.candidate.snapshot.version });
  });

  it('refuses to start with a bad candidate, naming it as the shadow set', async () => {
    await writeFile(join(dir, 'ok.cedar'), 'permit (principal, action, resource);');
    await writeFile(join(dir, 'bad-candidate.cedar'), 'permit (principal,');
    const { logger } = capturingLogger();
    await expect(createPolicyService({ files: ['ok.cedar'], baseDir: dir, logger, shadow: { files: ['bad-candidate.cedar'] } })).rejects.toMatchObject({
      code: 'InvalidConfiguration',
      message: expect.stringMatching(/^Shadow policy set: Policy file bad-candidate\.cedar is invalid: line 1, column \d+: /),
    });
  });

  it('compares decision, deciding policies, approval requirement and (for denials) the reason', () => {
    const base: DecideResponse = { decision: Decision.DECISION_DENY, reason: 'a', policyIds: ['x', 'y'], approval: undefined, obligations: undefined, policyVersion: 'v1', dependsOnTime: false };
    // Another policy version alone is no difference: the versions are what is being compared.
    expect(differences(base, { ...base, policyVersion: 'v2' })).toEqual([]);
    const obligations = { maskingProfile: 'default', recording: RecordingLevel.RECORDING_LEVEL_METADATA, sessionPolicy: '{"a":1}', maxCredentialSeconds: 0 };
    expect(differences({ ...base, obligations }, { ...base, obligations: { ...obligations, sessionPolicy: '' } })).toEqual(['sessionPolicy']);
    expect(differences(base, { ...base, policyIds: ['y', 'x'] })).toEqual([]);
    expect(differences(base, { ...base, reason: 'b' })).toEqual(['reason']);
    const approval = { approverGroups: ['a', 'b'], quorum: 1, pendingTtlSeconds: 900, grantWindowSeconds: 600 };
    const held = { ...base, decision: Decision.DECISION_APPROVAL_REQUIRED, approval };
    expect(differences(held, { ...held, reason: 'other words', approval: { ...approval, approverGroups: ['b', 'a'] } })).toEqual([]);
    expect(differences(held, { ...held, approval: { ...approval, quorum: 2 } })).toEqual(['approval']);
  });
});
