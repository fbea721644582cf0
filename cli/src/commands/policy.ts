import { readFile } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { Decision, RecordingLevel, type DecideRequest, type DecideResponse } from '@airlock/contracts';
import { PolicyEngine, policySchema, validatePolicies } from '@airlock/policy';
import { UsageError } from '../people/errors.js';

/** Where a policy command writes: lines for stdout and for stderr (tests collect them). */
export interface Output {
  out(line: string): void;
  err(line: string): void;
}

const consoleOutput: Output = { out: (line) => console.log(line), err: (line) => console.error(line) };

/** @default "policies" — what `test` and `explain` load when neither `--policies` nor the fixtures file names any. */
export const defaultPolicyPaths = ['policies'];
/** @default "https://airlock.invalid" — the issuer of a fixture or `explain` principal that names none. */
export const defaultIssuer = 'https://airlock.invalid';
/** @default "us-east-1" — the region of a request whose first resource ARN names none. */
export const defaultRegion = 'us-east-1';

export async function policy(argv: string[]): Promise<number> {
  const [action, ...rest] = argv;
  if (action === 'validate') return validateCommand(rest);
  if (action === 'test') return testCommand(rest);
  if (action === 'explain') return explainCommand(rest);
  if (action === 'schema') return schemaCommand(rest);
  throw new UsageError('say airlock policy validate, airlock policy test, airlock policy explain or airlock policy schema');
}

function parse<O extends NonNullable<Parameters<typeof parseArgs>[0]>['options']>(argv: string[], options: O) {
  try {
    return parseArgs({ args: argv, options, allowPositionals: true, strict: true });
  } catch (error) {
    if (error instanceof TypeError && 'code' in error && String(error.code).startsWith('ERR_PARSE_ARGS')) throw new UsageError(error.message);
    throw error;
  }
}

/** `--policies a,b --policies c` → [a, b, c]. */
function list(values: readonly string[] | string | undefined): string[] {
  const all = values === undefined ? [] : typeof values === 'string' ? [values] : values;
  return all.flatMap((value) => value.split(',')).map((value) => value.trim()).filter((value) => value !== '');
}

const message = (error: unknown) => (error instanceof Error ? error.message : String(error));

/** A quiet engine for the command line: evaluation warnings (a policy that errored and was skipped) go to stderr. */
async function loadEngine(files: string[], baseDir?: string): Promise<PolicyEngine> {
  // Loaded here and not at the top, like the YAML parser: `airlock policy validate` needs neither.
  const { createLogger } = await import('@airlock/logging');
  const logger = createLogger({ service: 'policy', level: 'warn', destination: process.stderr });
  return PolicyEngine.create({ files, logger, ...(baseDir === undefined ? {} : { baseDir }) });
}

export async function validateCommand(argv: string[], io: Output = consoleOutput): Promise<number> {
  const { positionals } = parse(argv, {});
  if (positionals.length === 0) throw new UsageError('name the policy files or directories to validate');
  const report = await validatePolicies({ files: positionals });
  for (const problem of report.problems) io.err(problem);
  if (report.problems.length > 0) {
    io.err(`${report.problems.length} problem${report.problems.length === 1 ? '' : 's'} in ${report.files.length} file${report.files.length === 1 ? '' : 's'}.`);
    return 1;
  }
  io.out(`OK: ${report.policies} polic${report.policies === 1 ? 'y' : 'ies'} in ${report.files.length} file${report.files.length === 1 ? '' : 's'} (${report.files.join(', ')}).`);
  return 0;
}

export async function schemaCommand(argv: string[], io: Output = consoleOutput): Promise<number> {
  const { positionals } = parse(argv, {});
  if (positionals.length > 0) throw new UsageError(`unexpected argument ${JSON.stringify(positionals[0])}`);
  io.out(policySchema());
  return 0;
}

// ---------------------------------------------------------------------------------------------------------------------
// Requests, as fixtures and `explain` name them

export interface RequestSpec {
  subject: string;
  issuer: string;
  groups: string[];
  action: string;
  resources: string[];
  region?: string;
  role?: string;
  context: Record<string, string>;
  parameters: Record<string, string>;
}

export function decideRequest(spec: RequestSpec): DecideRequest {
  const colon = spec.action.indexOf(':');
  const region = spec.region ?? spec.resources.map((arn) => arn.split(':')[3]).find((part) => part !== undefined && part !== '') ?? defaultRegion;
  return {
    principal: { subject: spec.subject, issuer: spec.issuer, groups: spec.groups, sessionId: 'policy-cli', name: spec.subject },
    call: {
      service: colon > 0 ? spec.action.slice(0, colon) : '',
      operation: colon > 0 ? spec.action.slice(colon + 1) : spec.action,
      action: spec.action,
      resources: spec.resources,
      region,
      roleArn: spec.role ?? '',
      parameters: spec.parameters,
    },
    context: { operationKnown: 'true', ...spec.context },
  };
}

/** ALLOW, DENY, APPROVAL_REQUIRED. */
export function decisionName(decision: Decision): string {
  return Decision[decision]?.replace(/^DECISION_/, '') ?? String(decision);
}

function recordingName(level: RecordingLevel | undefined): string {
  return level === undefined ? 'metadata' : (RecordingLevel[level]?.replace(/^RECORDING_LEVEL_/, '').toLowerCase() ?? String(level));
}

// ---------------------------------------------------------------------------------------------------------------------
// airlock policy test

const expectations = { allow: Decision.DECISION_ALLOW, deny: Decision.DECISION_DENY, approval: Decision.DECISION_APPROVAL_REQUIRED } as const;

export interface FixtureCase {
  name: string;
  request: RequestSpec;
  expect: keyof typeof expectations;
  approvers?: string[];
  quorum?: number;
  /** Text the decision's reason must contain. */
  reason?: string;
  /** The deciding policy ids, in any order. */
  policyIds?: string[];
  /** The session policy the call's credentials get, exactly ("" for none). */
  sessionPolicy?: string;
}

export interface Fixtures {
  /** Policy paths the file names, resolved against its directory. */
  policies: string[];
  cases: FixtureCase[];
}

/** Reads a fixtures file: a list of cases, or `{ policies: [...], cases: [...] }`. Throws with the case and field at fault. */
export async function parseFixtures(text: string, file: string): Promise<Fixtures> {
  const { parse: parseYaml } = await import('yaml');
  let document: unknown;
  try {
    document = parseYaml(text);
  } catch (error) {
    throw new Error(`${file} is not YAML: ${message(error)}`);
  }
  const top = Array.isArray(document) ? { cases: document } : document;
  if (!isRecord(top) || !Array.isArray(top['cases'])) throw new Error(`${file} must be a list of cases, or a map with "cases" (and "policies")`);
  const policies = top['policies'] === undefined ? [] : strings(top['policies'], `${file}: policies`);
  const base = dirname(resolve(file));
  return {
    policies: policies.map((path) => resolve(base, path)),
    cases: top['cases'].map((entry, index) => parseCase(entry, `${file}: case ${index + 1}`)),
  };
}

function parseCase(entry: unknown, where: string): FixtureCase {
  if (!isRecord(entry)) throw new Error(`${where} must be a map`);
  const known = ['name', 'principal', 'action', 'resources', 'resource', 'region', 'role', 'context', 'parameters', 'expect', 'approvers', 'quorum', 'reason', 'policyIds', 'sessionPolicy'];
  const unknown = Object.keys(entry).find((key) => !known.includes(key));
  if (unknown !== undefined) throw new Error(`${where}: unknown field "${unknown}" (fields: ${known.join(', ')})`);
  const name = entry['name'] === undefined ? undefined : text(entry['name'], `${where}: name`);
  const label = name === undefined ? where : `${where} (${name})`;
  const principal = entry['principal'];
  if (!isRecord(principal)) throw new Error(`${label}: principal must be a map with subject, issuer and groups`);
  const expect = text(entry['expect'], `${label}: expect`);
  if (!(expect in expectations)) throw new Error(`${label}: expect must be allow, deny or approval, not "${expect}"`);
  const action = text(entry['action'], `${label}: action`);
  if (!/^[a-z0-9-]+:[A-Za-z0-9*]+$/i.test(action)) throw new Error(`${label}: action must be an IAM action like ec2:TerminateInstances, not "${action}"`);
  const resources = [...(entry['resource'] === undefined ? [] : [text(entry['resource'], `${label}: resource`)]), ...(entry['resources'] === undefined ? [] : strings(entry['resources'], `${label}: resources`))];
  const quorum = entry['quorum'];
  if (quorum !== undefined && (typeof quorum !== 'number' || !Number.isInteger(quorum) || quorum < 1)) throw new Error(`${label}: quorum must be a whole number from 1`);
  return {
    name: name ?? `${text(principal['subject'], `${label}: principal.subject`)} ${action}${resources.length > 0 ? ` on ${resources.join(', ')}` : ''}`,
    request: {
      subject: text(principal['subject'], `${label}: principal.subject`),
      issuer: principal['issuer'] === undefined ? defaultIssuer : text(principal['issuer'], `${label}: principal.issuer`),
      groups: principal['groups'] === undefined ? [] : strings(principal['groups'], `${label}: principal.groups`),
      action,
      resources,
      ...(entry['region'] === undefined ? {} : { region: text(entry['region'], `${label}: region`) }),
      ...(entry['role'] === undefined ? {} : { role: text(entry['role'], `${label}: role`) }),
      context: stringMap(entry['context'], `${label}: context`),
      parameters: stringMap(entry['parameters'], `${label}: parameters`),
    },
    expect: expect as FixtureCase['expect'],
    ...(entry['approvers'] === undefined ? {} : { approvers: strings(entry['approvers'], `${label}: approvers`) }),
    ...(quorum === undefined ? {} : { quorum }),
    ...(entry['reason'] === undefined ? {} : { reason: text(entry['reason'], `${label}: reason`) }),
    ...(entry['policyIds'] === undefined ? {} : { policyIds: strings(entry['policyIds'], `${label}: policyIds`) }),
    ...(entry['sessionPolicy'] === undefined ? {} : { sessionPolicy: sessionPolicyText(entry['sessionPolicy'], `${label}: sessionPolicy`) }),
  };
}

/** A session policy as written in YAML: the JSON text, or the document itself (compared as Airlock writes it). */
function sessionPolicyText(value: unknown, where: string): string {
  if (typeof value === 'string') return value;
  if (isRecord(value)) return JSON.stringify(value);
  throw new Error(`${where} must be the session policy as JSON text or as a map`);
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function text(value: unknown, where: string): string {
  if (typeof value !== 'string' || value === '') throw new Error(`${where} must be a non-empty string`);
  return value;
}

function strings(value: unknown, where: string): string[] {
  if (typeof value === 'string') return [value];
  if (!Array.isArray(value) || value.some((item) => typeof item !== 'string')) throw new Error(`${where} must be a list of strings`);
  return value as string[];
}

/** Context and parameters are strings on the wire; YAML numbers and booleans are written as they read. */
function stringMap(value: unknown, where: string): Record<string, string> {
  if (value === undefined) return {};
  if (!isRecord(value)) throw new Error(`${where} must be a map of strings`);
  const result: Record<string, string> = {};
  for (const [key, item] of Object.entries(value)) {
    if (!['string', 'number', 'boolean'].includes(typeof item)) throw new Error(`${where}.${key} must be a string, number or boolean`);
    result[key] = String(item);
  }
  return result;
}

/** Why a decision does not match the case, or nothing when it does. */
export function mismatches(fixture: FixtureCase, response: DecideResponse): string[] {
  const problems: string[] = [];
  const expected = expectations[fixture.expect];
  if (response.decision !== expected) problems.push(`expected ${decisionName(expected)}, got ${decisionName(response.decision)}`);
  const sorted = (values: readonly string[]) => [...values].sort().join(', ');
  if (fixture.approvers !== undefined) {
    const actual = response.approval?.approverGroups ?? [];
    if (sorted(actual) !== sorted(fixture.approvers)) problems.push(`expected approvers [${sorted(fixture.approvers)}], got [${sorted(actual)}]`);
  }
  if (fixture.quorum !== undefined && response.approval?.quorum !== fixture.quorum) {
    problems.push(`expected quorum ${fixture.quorum}, got ${response.approval?.quorum ?? 'none'}`);
  }
  if (fixture.reason !== undefined && !response.reason.includes(fixture.reason)) problems.push(`expected the reason to contain "${fixture.reason}"`);
  if (fixture.policyIds !== undefined && sorted(response.policyIds) !== sorted(fixture.policyIds)) {
    problems.push(`expected policies [${sorted(fixture.policyIds)}], got [${sorted(response.policyIds)}]`);
  }
  const sessionPolicy = response.obligations?.sessionPolicy ?? '';
  if (fixture.sessionPolicy !== undefined && sessionPolicy !== fixture.sessionPolicy) {
    problems.push(`expected session policy ${fixture.sessionPolicy || '(none)'}, got ${sessionPolicy || '(none)'}`);
  }
  return problems;
}

export async function testCommand(argv: string[], io: Output = consoleOutput): Promise<number> {
  const { values, positionals } = parse(argv, { policies: { type: 'string', multiple: true } });
  if (positionals.length !== 1) throw new UsageError('name one fixtures file: airlock policy test <fixtures.yaml>');
  const file = positionals[0]!;
  let fixtures: Fixtures;
  let engine: PolicyEngine;
  try {
    fixtures = await parseFixtures(await readFile(file, 'utf8'), file);
    const flagged = list(values.policies);
    engine = await loadEngine(flagged.length > 0 ? flagged : fixtures.policies.length > 0 ? fixtures.policies : defaultPolicyPaths);
  } catch (error) {
    io.err(`airlock: ${message(error)}`);
    return 1;
  }
  let failed = 0;
  for (const fixture of fixtures.cases) {
    let problems: string[];
    let response: DecideResponse | undefined;
    try {
      response = engine.decide(decideRequest(fixture.request));
      problems = mismatches(fixture, response);
    } catch (error) {
      problems = [`could not decide: ${message(error)}`];
    }
    if (problems.length === 0) {
      io.out(`PASS  ${fixture.name}`);
      continue;
    }
    failed++;
    io.out(`FAIL  ${fixture.name}: ${problems.join('; ')}`);
    if (response) io.out(`      decided ${decisionName(response.decision)} by [${response.policyIds.join(', ')}]: ${response.reason}`);
  }
  await engine.close();
  const passed = fixtures.cases.length - failed;
  io.out(`${passed} passed, ${failed} failed (policy set ${engine.snapshot.version}: ${engine.snapshot.files.join(', ')})`);
  return failed > 0 ? 1 : 0;
}

// ---------------------------------------------------------------------------------------------------------------------
// airlock policy explain

export async function explainCommand(argv: string[], io: Output = consoleOutput): Promise<number> {
  const { values, positionals } = parse(argv, {
    principal: { type: 'string' },
    issuer: { type: 'string' },
    groups: { type: 'string', multiple: true },
    action: { type: 'string' },
    resource: { type: 'string', multiple: true },
    region: { type: 'string' },
    role: { type: 'string' },
    context: { type: 'string', multiple: true },
    param: { type: 'string', multiple: true },
    policies: { type: 'string', multiple: true },
    json: { type: 'boolean' },
  });
  if (positionals.length > 0) throw new UsageError(`unexpected argument ${JSON.stringify(positionals[0])}`);
  if (!values.principal) throw new UsageError('--principal is required');
  if (!values.action) throw new UsageError('--action is required');
  const hash = values.principal.lastIndexOf('#');
  if (hash >= 0 && values.issuer !== undefined) throw new UsageError('give the issuer either in --principal ISSUER#SUBJECT or with --issuer, not both');
  const spec: RequestSpec = {
    subject: hash >= 0 ? values.principal.slice(hash + 1) : values.principal,
    issuer: hash >= 0 ? values.principal.slice(0, hash) : (values.issuer ?? defaultIssuer),
    groups: list(values.groups),
    action: values.action,
    resources: values.resource ?? [],
    ...(values.region === undefined ? {} : { region: values.region }),
    ...(values.role === undefined ? {} : { role: values.role }),
    context: pairs(values.context, '--context'),
    parameters: pairs(values.param, '--param'),
  };
  const paths = list(values.policies);
  let engine: PolicyEngine;
  let response: DecideResponse;
  try {
    engine = await loadEngine(paths.length > 0 ? paths : defaultPolicyPaths);
    response = engine.decide(decideRequest(spec));
  } catch (error) {
    io.err(`airlock: ${message(error)}`);
    return 1;
  }
  const deciding = response.policyIds.map((id) => ({ id, effect: engine.policy(id)?.effect, file: engine.policy(id)?.file }));
  const { snapshot } = engine;
  await engine.close();
  if (values.json) {
    io.out(
      JSON.stringify(
        {
          decision: decisionName(response.decision),
          reason: response.reason,
          policies: deciding,
          approval: response.approval ?? null,
          obligations: response.obligations ? { ...response.obligations, recording: recordingName(response.obligations.recording) } : null,
          policySet: { version: snapshot.version, files: snapshot.files },
        },
        null,
        2,
      ),
    );
    return 0;
  }
  io.out(`decision:    ${decisionName(response.decision)}`);
  io.out(`reason:      ${response.reason}`);
  if (deciding.length === 0) io.out('policies:    none (no policy permits this request)');
  else deciding.forEach((policy, index) => io.out(`${index === 0 ? 'policies:   ' : '            '} ${policy.id} (${policy.effect ?? '?'} in ${policy.file ?? '?'})`));
  if (response.approval) {
    const { approverGroups, quorum, pendingTtlSeconds, grantWindowSeconds } = response.approval;
    io.out(`approval:    ${quorum} approver${quorum === 1 ? '' : 's'} from ${approverGroups.join(' or ')}; waits ${pendingTtlSeconds}s, grant valid ${grantWindowSeconds}s`);
  }
  if (response.obligations) {
    const { maskingProfile, recording, sessionPolicy, maxCredentialSeconds } = response.obligations;
    const lifetime = maxCredentialSeconds > 0 ? `, credentials at most ${maxCredentialSeconds}s` : '';
    io.out(`obligations: masking ${maskingProfile}, recording ${recordingName(recording)}${lifetime}`);
    io.out(`credentials: ${sessionPolicy === '' ? "the role's own permissions (no session policy)" : `session policy ${sessionPolicy}`}`);
  }
  io.out(`policy set:  ${snapshot.version} (${snapshot.meta.size} policies from ${snapshot.files.join(', ')})`);
  return 0;
}

function pairs(values: readonly string[] | undefined, flag: string): Record<string, string> {
  const result: Record<string, string> = {};
  for (const pair of values ?? []) {
    const equals = pair.indexOf('=');
    if (equals <= 0) throw new UsageError(`${flag} takes KEY=VALUE, not ${JSON.stringify(pair)}`);
    result[pair.slice(0, equals)] = pair.slice(equals + 1);
  }
  return result;
}
