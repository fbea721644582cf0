import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { UsageError } from '../people/errors.js';
import { explainCommand, parseFixtures, policy, testCommand, validateCommand, type Output } from './policy.js';
import { commands } from './table.js';

const repo = fileURLToPath(new URL('../../../', import.meta.url));
const examples = join(repo, 'policies', 'examples');
const exampleFixtures = join(examples, 'ec2-terminate.fixtures.yaml');
const examplePolicy = join(examples, 'ec2-terminate.cedar');
const defaultPack = join(repo, 'policies', 'default.cedar');
const instance = 'arn:aws:ec2:eu-west-1:123456789012:instance/i-1';
/** How the commands name a file inside the working directory. */
const shown = (path: string) => relative(process.cwd(), path);

function capture(): Output & { stdout: string[]; stderr: string[] } {
  const stdout: string[] = [];
  const stderr: string[] = [];
  return { stdout, stderr, out: (line) => stdout.push(line), err: (line) => stderr.push(line) };
}

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'airlock-policy-cli-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

// The first policy set a test worker loads waits for Cedar's validator to warm up: about a second, more on a busy machine.
describe('airlock policy validate', { timeout: 30_000 }, () => {
  it('accepts good files and directories, exit 0', async () => {
    const io = capture();
    expect(await validateCommand([defaultPack, examples], io)).toBe(0);
    expect(io.stderr).toEqual([]);
    expect(io.stdout).toEqual([`OK: 9 policies in 2 files (${shown(defaultPack)}, ${shown(examplePolicy)}).`]);
  });

  it('validates the set against the schema: unknown actions and type errors are reported with file, line and column', async () => {
    const unknown = join(dir, 'schema.cedar');
    await writeFile(unknown, '@id("typo") permit (principal, action == Airlock::Action::"s3:GetObjects", resource);\n@id("ip") permit (principal, action, resource) when { context.sourceIp like "10.*" };\n');
    const io = capture();
    expect(await validateCommand([unknown], io)).toBe(1);
    // Each finding once, in file order (Cedar reports one per action it checked the policy against).
    expect(io.stderr).toEqual([
      expect.stringMatching(/^Policy file .*schema\.cedar is invalid: policy typo: line 1, column 42: .*unrecognized action `Airlock::Action::"s3:GetObjects"`/),
      expect.stringMatching(/^Policy file .*schema\.cedar is invalid: policy ip: line 2, column 55: .*optional attribute `sourceIp` in context Hint: .*context has sourceIp/),
      expect.stringMatching(/^Policy file .*schema\.cedar is invalid: policy ip: line 2, column 55: .*expected String but saw ipaddr$/),
      '3 problems in 1 file.',
    ]);
  });

  it('prints Cedar’s message with file, line and column for each bad file, exit 1', async () => {
    const bad = join(dir, 'bad.cedar');
    await writeFile(bad, 'permit (principal, action, resource);\nforbid (principal, action\n');
    const annotations = join(dir, 'annotations.cedar');
    await writeFile(annotations, '@id("q") @approval("ops") @quorum("many") permit (principal, action, resource);');
    const io = capture();
    expect(await validateCommand([bad, annotations, defaultPack], io)).toBe(1);
    expect(io.stdout).toEqual([]);
    expect(io.stderr).toEqual([
      `Policy file ${bad} is invalid: line 2, column 26: failed to parse policies from string: unexpected end of input (expected \`!=\`, \`)\`, \`,\`, \`:\`, \`<\`, \`<=\`, \`==\`, \`>\`, \`>=\`, \`in\`, or \`is\`)`,
      `Policy file ${annotations} is invalid: policy q: @quorum("many") must be a positive whole number`,
      '2 problems in 3 files.',
    ]);
  });

  it('fails on a missing path, and needs at least one', async () => {
    const io = capture();
    expect(await validateCommand([join(dir, 'nope.cedar')], io)).toBe(1);
    expect(io.stderr[0]).toMatch(/^Policy file .*nope\.cedar cannot be read: ENOENT/);
    await expect(validateCommand([], capture())).rejects.toBeInstanceOf(UsageError);
  });
});

describe('airlock policy test', () => {
  it('runs the example fixtures against the example policy: every case passes, exit 0', async () => {
    const io = capture();
    expect(await testCommand([exampleFixtures], io)).toBe(0);
    expect(io.stdout.filter((line) => line.startsWith('PASS  '))).toHaveLength(5);
    expect(io.stdout.some((line) => line.startsWith('FAIL'))).toBe(false);
    expect(io.stdout.at(-1)).toMatch(/^5 passed, 0 failed \(policy set sha256:[0-9a-f]{16}: .*ec2-terminate\.cedar\)$/);
  });

  it('runs the default pack’s fixtures: every case passes, exit 0', async () => {
    const io = capture();
    expect(await testCommand([join(repo, 'policies', 'default.fixtures.yaml')], io)).toBe(0);
    expect(io.stdout.some((line) => line.startsWith('FAIL'))).toBe(false);
    expect(io.stdout.at(-1)).toMatch(/^\d+ passed, 0 failed \(policy set sha256:[0-9a-f]{16}: .*default\.cedar\)$/);
  });

  it('--policies replaces the file’s policies: with the default pack alone the senior case fails, which it reports, exit 1', async () => {
    const io = capture();
    expect(await testCommand([exampleFixtures, '--policies', defaultPack], io)).toBe(1);
    expect(io.stdout.join('\n')).toContain(
      "FAIL  a senior engineer's TerminateInstances waits for a manager: expected approvers [managers], got [approvers]; expected policies [ec2-terminate-senior-with-manager-approval], got [default-approve-destroying-writes]",
    );
    expect(io.stdout.at(-1)).toMatch(/^\d+ passed, [1-9]\d* failed /);
  });

  it('takes a plain list of cases with context and checks reason and approvers', async () => {
    const fixtures = join(dir, 'list.yaml');
    await writeFile(
      fixtures,
      `
- principal: { subject: ann, groups: [ops] }
  action: s3:GetObject
  resource: arn:aws:s3:::logs/a
  context: { sourceIp: 10.0.0.1 }
  expect: allow
- name: from outside the office
  principal: { subject: ann, groups: [ops] }
  action: s3:GetObject
  resource: arn:aws:s3:::logs/a
  context: { sourceIp: 203.0.113.9 }
  expect: approval
  approvers: [security]
  reason: wrong reason
`,
    );
    const policies = join(dir, 'office.cedar');
    await writeFile(
      policies,
      `@id("office") permit (principal in Airlock::Group::"ops", action, resource) when { context has sourceIp && context.sourceIp.isInRange(ip("10.0.0.0/8")) };
       @id("remote") @approval("managers") permit (principal in Airlock::Group::"ops", action, resource) unless { context has sourceIp && context.sourceIp.isInRange(ip("10.0.0.0/8")) };`,
    );
    const io = capture();
    expect(await testCommand([fixtures, '--policies', policies], io)).toBe(1);
    expect(io.stdout).toEqual([
      'PASS  ann s3:GetObject on arn:aws:s3:::logs/a',
      'FAIL  from outside the office: expected approvers [security], got [managers]; expected the reason to contain "wrong reason"',
      '      decided APPROVAL_REQUIRED by [remote]: s3:GetObject on arn:aws:s3:::logs/a needs approval from an approver in managers (policy remote)',
      expect.stringMatching(/^1 passed, 1 failed /),
    ]);
  });

  it('rejects a malformed fixtures file with the case and field, exit 1', async () => {
    const fixtures = join(dir, 'bad.yaml');
    await writeFile(fixtures, '- principal: { subject: ann }\n  action: s3:GetObject\n  expect: maybe\n');
    const io = capture();
    expect(await testCommand([fixtures, '--policies', defaultPack], io)).toBe(1);
    expect(io.stderr).toEqual([`airlock: ${fixtures}: case 1: expect must be allow, deny or approval, not "maybe"`]);
    await expect(parseFixtures('{ cases: [ { principal: {subject: a}, action: s3:X, expect: allow, colour: red } ] }', 'f.yaml')).rejects.toThrow(
      'f.yaml: case 1: unknown field "colour"',
    );
    await expect(parseFixtures('cases: [ { action: s3:X, expect: allow } ]', 'f.yaml')).rejects.toThrow('f.yaml: case 1: principal must be a map');
    await expect(parseFixtures('just text', 'f.yaml')).rejects.toThrow('must be a list of cases');
    await expect(parseFixtures('[1, 2', 'f.yaml')).rejects.toThrow(/^f\.yaml is not YAML: /);
  });

  it('fails with the policy error when the policies do not load, exit 1', async () => {
    const bad = join(dir, 'bad-for-test.cedar');
    await writeFile(bad, 'permit (');
    const io = capture();
    expect(await testCommand([exampleFixtures, '--policies', bad], io)).toBe(1);
    expect(io.stderr[0]).toMatch(/^airlock: Policy file .*bad-for-test\.cedar is invalid: line 1, column 9: /);
  });
});

describe('airlock policy explain', () => {
  const senior = ['--principal', 'https://idp.example.com#sam', '--groups', 'engineers,senior-engineers', '--action', 'ec2:TerminateInstances', '--resource', instance];

  it('prints the decision, the deciding policies with their files, the reason and the approval requirement', async () => {
    const io = capture();
    expect(await explainCommand([...senior, '--policies', examplePolicy], io)).toBe(0);
    expect(io.stdout).toEqual([
      'decision:    APPROVAL_REQUIRED',
      `reason:      ec2:TerminateInstances on ${instance} needs approval from an approver in managers (policy ec2-terminate-senior-with-manager-approval)`,
      `policies:    ec2-terminate-senior-with-manager-approval (permit in ${shown(examplePolicy)})`,
      'approval:    1 approver from managers; waits 900s, grant valid 600s',
      'obligations: masking default, recording metadata, credentials at most 600s',
      `credentials: session policy {"Version":"2012-10-17","Statement":[{"Sid":"Airlock","Effect":"Allow","Action":["ec2:TerminateInstances"],"Resource":["${instance}"]}]}`,
      expect.stringMatching(/^policy set: {2}sha256:[0-9a-f]{16} \(2 policies from .*ec2-terminate\.cedar\)$/),
    ]);
  });

  it('explains a denial with the forbidding policy and its reason, and a request nothing permits', async () => {
    const io = capture();
    const junior = ['--principal', 'jo', '--issuer', 'https://idp.example.com', '--action', 'ec2:TerminateInstances', '--policies', examplePolicy];
    expect(await explainCommand(junior, io)).toBe(0);
    expect(io.stdout.slice(0, 3)).toEqual([
      'decision:    DENY',
      'reason:      Only senior engineers may terminate EC2 instances, and only after a manager approves the request.',
      `policies:    ec2-terminate-only-senior-engineers (forbid in ${shown(examplePolicy)})`,
    ]);
    const none = capture();
    expect(await explainCommand(['--principal', 'jo', '--action', 's3:GetObject', '--policies', examplePolicy], none)).toBe(0);
    expect(none.stdout.slice(0, 3)).toEqual([
      'decision:    DENY',
      'reason:      No Airlock policy permits s3:GetObject for jo',
      'policies:    none (no policy permits this request)',
    ]);
  });

  it('passes context and parameters to the policies, and answers in JSON with --json', async () => {
    const file = join(dir, 'dry-run.cedar');
    await writeFile(
      file,
      '@id("dry-run-only") @masking("strict") @recording("full") @scope("role") permit (principal, action, resource) when { context.dryRun && context has sourceIp && context.sourceIp == ip("10.0.0.1") };',
    );
    const io = capture();
    const args = ['--principal', 'jo', '--action', 'ec2:RunInstances', '--param', 'DryRun=true', '--context', 'sourceIp=10.0.0.1', '--policies', file, '--json'];
    expect(await explainCommand(args, io)).toBe(0);
    expect(JSON.parse(io.stdout.join('\n'))).toEqual({
      decision: 'ALLOW',
      reason: 'Allowed by dry-run-only',
      policies: [{ id: 'dry-run-only', effect: 'permit', file }],
      approval: null,
      obligations: { maskingProfile: 'strict', recording: 'full', sessionPolicy: '', maxCredentialSeconds: 0 },
      policySet: { version: expect.stringMatching(/^sha256:/), files: [file] },
    });
    const without = capture();
    await explainCommand([...args.slice(0, 4), '--policies', file, '--json'], without);
    expect(JSON.parse(without.stdout.join('\n'))).toMatchObject({ decision: 'DENY' });
  });

  it('refuses incomplete or contradictory options as usage errors, and reports policies that do not load', async () => {
    await expect(explainCommand(['--action', 's3:GetObject'], capture())).rejects.toThrow(new UsageError('--principal is required'));
    await expect(explainCommand(['--principal', 'jo'], capture())).rejects.toThrow(new UsageError('--action is required'));
    await expect(explainCommand(['--principal', 'i#jo', '--issuer', 'i', '--action', 's3:X'], capture())).rejects.toBeInstanceOf(UsageError);
    await expect(explainCommand(['--principal', 'jo', '--action', 's3:X', '--context', 'novalue'], capture())).rejects.toBeInstanceOf(UsageError);
    await expect(explainCommand(['--principal', 'jo', '--action', 's3:X', '--bogus'], capture())).rejects.toBeInstanceOf(UsageError);
    const io = capture();
    expect(await explainCommand(['--principal', 'jo', '--action', 's3:X', '--policies', join(dir, 'missing')], io)).toBe(1);
    expect(io.stderr[0]).toMatch(/cannot be read/);
  });
});

describe('airlock policy', () => {
  it('names its subcommands', async () => {
    await expect(policy(['frobnicate'])).rejects.toBeInstanceOf(UsageError);
    const { usage } = commands.find((command) => command.name === 'policy')!;
    expect(usage.split('\n').filter((line) => !line.startsWith(' '))).toHaveLength(4);
  });
});
