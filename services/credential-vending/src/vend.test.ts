import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import type { VendRequest } from '@airlock/contracts';
import { AirlockError } from '@airlock/errors';
import { createLogger } from '@airlock/logging';
import { bindInProcess } from '@airlock/transport';
import { createCredentialVendingService } from './service.js';
import type { AssumeRoleInput, AssumedCredentials, Sts } from './sts.js';

const roleArn = 'arn:aws:iam::123456789012:role/agents/reader';
const secret = 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYSECRET';

function request(overrides: Partial<VendRequest> = {}): VendRequest {
  return {
    principal: { subject: 'alice@example.com', issuer: 'https://idp.example', groups: ['dev'], sessionId: 'a1b2c3', name: 'Alice' },
    roleArn,
    sessionPolicy: '',
    maxDurationSeconds: 0,
    approvalId: '',
    region: 'us-east-1',
    notAfterMs: 0,
    ...overrides,
  };
}

/** An STS that records inputs and answers from a script. */
function scriptedSts(answer: (input: AssumeRoleInput, call: number) => Promise<AssumedCredentials>) {
  const inputs: AssumeRoleInput[] = [];
  const sts: Sts = {
    assumeRole: (input) => {
      inputs.push(input);
      return answer(input, inputs.length);
    },
  };
  return { sts, inputs };
}

const credentialsAt = (call: number, expirationMs: number): AssumedCredentials => ({
  accessKeyId: `ASIA${call}`,
  secretAccessKey: secret,
  sessionToken: `token-${call}`,
  expirationMs,
});

function sdkError(name: string, status: number | undefined, fault: 'client' | 'server' = 'client') {
  return Object.assign(new Error(`${name} from STS`), { name, $fault: fault, $metadata: status === undefined ? {} : { httpStatusCode: status } });
}

async function serviceWith(
  sts: Sts,
  options: { now?: () => number; durationSeconds?: number; destination?: PassThrough; attempts?: number; sleeps?: number[] } = {},
) {
  const logger = createLogger({ service: 'credential-vending', level: options.destination ? 'debug' : 'silent', ...(options.destination ? { destination: options.destination } : {}) });
  const runtime = await createCredentialVendingService({
    region: 'us-east-1',
    durationSeconds: options.durationSeconds ?? 3600,
    logger,
    sts,
    retry: { attempts: options.attempts ?? 3, baseDelayMs: 100, maxDelayMs: 1_000 },
    // No real waiting in unit tests: the backoff is recorded instead.
    retryHooks: { sleep: async (ms) => void options.sleeps?.push(ms), random: () => 1 },
    ...(options.now ? { now: options.now } : {}),
  });
  return { runtime, client: bindInProcess(runtime.definition, runtime.implementation) };
}

describe('Vend request to STS', () => {
  it('names the session after the caller and tags it', async () => {
    const { sts, inputs } = scriptedSts(async (_input, call) => credentialsAt(call, Date.now() + 3_600_000));
    const { client } = await serviceWith(sts);
    await client.vend(request({ approvalId: 'apr-42', notAfterMs: Date.now() + 7_200_000, sessionPolicy: '{"Version":"2012-10-17","Statement":[]}' }));
    expect(inputs[0]).toEqual({
      roleArn,
      roleSessionName: 'airlock-alice@example.com',
      sourceIdentity: 'alice@example.com',
      durationSeconds: 3600,
      policy: '{"Version":"2012-10-17","Statement":[]}',
      tags: [
        { key: 'airlock-subject', value: 'alice@example.com' },
        { key: 'airlock-groups', value: 'dev' },
        { key: 'airlock-session', value: 'a1b2c3' },
        { key: 'airlock-approval', value: 'apr-42' },
      ],
    });
  });

  it('leaves out an empty session policy and approval', async () => {
    const { sts, inputs } = scriptedSts(async (_input, call) => credentialsAt(call, Date.now() + 3_600_000));
    const { client } = await serviceWith(sts);
    await client.vend(request());
    expect(inputs[0]).not.toHaveProperty('policy');
    expect(inputs[0]?.tags.map((tag) => tag.key)).toEqual(['airlock-subject', 'airlock-groups', 'airlock-session']);
  });

  it.each([
    [0, 3600],
    [60, 900],
    [1800, 1800],
    [99_999, 3600],
  ])('clamps a requested lifetime of %i seconds to %i', async (requested, expected) => {
    const { sts, inputs } = scriptedSts(async (_input, call) => credentialsAt(call, Date.now() + 3_600_000));
    const { client } = await serviceWith(sts, { durationSeconds: 3600 });
    await client.vend(request({ maxDurationSeconds: requested }));
    expect(inputs[0]?.durationSeconds).toBe(expected);
  });

  it('refuses a request without a principal or with something that is not a role ARN', async () => {
    const { sts, inputs } = scriptedSts(async (_input, call) => credentialsAt(call, 0));
    const { client } = await serviceWith(sts);
    await expect(client.vend(request({ principal: undefined }))).rejects.toMatchObject({ code: 'InvalidRequest' });
    await expect(client.vend(request({ roleArn: 'arn:aws:iam::123456789012:user/bob' }))).rejects.toMatchObject({ code: 'InvalidRequest' });
    expect(inputs).toHaveLength(0);
  });

  it('refuses, without calling STS, an approved call whose request does not say when the credentials must stop working', async () => {
    const { sts, inputs } = scriptedSts(async (_input, call) => credentialsAt(call, Date.now() + 3_600_000));
    const { client } = await serviceWith(sts);
    await expect(client.vend(request({ approvalId: 'apr-5' }))).rejects.toMatchObject({
      code: 'InvalidRequest',
      message: expect.stringContaining('not_after_ms'),
      details: { approvalId: 'apr-5' },
    });
    expect(inputs).toHaveLength(0);
    // The same request with its bound is served.
    await expect(client.vend(request({ approvalId: 'apr-5', notAfterMs: Date.now() + 600_000 }))).resolves.toHaveProperty('credentials');
    expect(inputs).toHaveLength(1);
  });

  it('refuses a configured lifetime STS would not grant', async () => {
    const logger = createLogger({ service: 'credential-vending', level: 'silent' });
    await expect(createCredentialVendingService({ region: 'us-east-1', durationSeconds: 600, logger })).rejects.toMatchObject({
      code: 'InvalidConfiguration',
    });
  });
});

describe('Vend cache', () => {
  it('reuses credentials until five minutes before they expire', async () => {
    let now = 1_000_000;
    const { sts, inputs } = scriptedSts(async (_input, call) => credentialsAt(call, now + 900_000));
    const { client } = await serviceWith(sts, { now: () => now, durationSeconds: 900 });
    const first = await client.vend(request());
    now += 599_000;
    expect(await client.vend(request())).toEqual(first);
    now += 1_000;
    const refreshed = await client.vend(request());
    expect(refreshed.credentials?.accessKeyId).toBe('ASIA2');
    expect(inputs).toHaveLength(2);
  });

  it('does not share credentials across sessions, policies, approvals, lifetimes or bounds', async () => {
    const { sts, inputs } = scriptedSts(async (_input, call) => credentialsAt(call, Date.now() + 3_600_000));
    const { client } = await serviceWith(sts);
    const base = request();
    await client.vend(base);
    await client.vend({ ...base, principal: { ...base.principal!, sessionId: 'other' } });
    await client.vend({ ...base, sessionPolicy: '{"Statement":[]}' });
    await client.vend({ ...base, approvalId: 'apr-1', notAfterMs: Date.now() + 7_200_000 });
    await client.vend({ ...base, maxDurationSeconds: 900 });
    await client.vend({ ...base, principal: { ...base.principal!, issuer: 'https://other.example' } });
    await client.vend({ ...base, region: 'eu-west-1' });
    await client.vend({ ...base, principal: { ...base.principal!, groups: ['ops'] } });
    await client.vend({ ...base, notAfterMs: Date.now() + 7_200_000 });
    expect(inputs).toHaveLength(9);
  });

  it('lets a caller give up without cancelling the AssumeRole others wait for', async () => {
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    const { sts, inputs } = scriptedSts(async (_input, call) => {
      await gate;
      return credentialsAt(call, Date.now() + 3_600_000);
    });
    const { client } = await serviceWith(sts);
    const impatient = new AbortController();
    const first = client.vend(request(), { signal: impatient.signal });
    const second = client.vend(request());
    impatient.abort(new Error('caller went away'));
    await expect(first).rejects.toThrow();
    release();
    expect((await second).credentials?.accessKeyId).toBe('ASIA1');
    expect(inputs).toHaveLength(1);
  });

  it('does not cache a failure', async () => {
    const { sts, inputs } = scriptedSts(async (_input, call) => {
      if (call === 1) throw sdkError('Throttling', 400);
      return credentialsAt(call, Date.now() + 3_600_000);
    });
    const { client } = await serviceWith(sts, { attempts: 1 });
    await expect(client.vend(request())).rejects.toMatchObject({ code: 'Throttled' });
    expect((await client.vend(request())).credentials?.accessKeyId).toBe('ASIA2');
    expect(inputs).toHaveLength(2);
  });
});

describe('Vend errors', () => {
  it.each([
    ['Throttling', 400, 'client', 'Throttled'],
    ['ThrottlingException', 400, 'client', 'Throttled'],
    ['AccessDenied', 403, 'client', 'AccessDenied'],
    ['MalformedPolicyDocument', 400, 'client', 'InvalidRequest'],
    ['PackedPolicyTooLarge', 400, 'client', 'InvalidRequest'],
    ['InvalidClientTokenId', 403, 'client', 'DependencyUnavailable'],
    ['ServiceUnavailable', 503, 'server', 'DependencyUnavailable'],
    ['InternalFailure', 500, 'server', 'DependencyUnavailable'],
  ] as const)('maps STS %s (%i) to %s', async (name, status, fault, code) => {
    const { sts } = scriptedSts(async () => {
      throw sdkError(name, status, fault);
    });
    const { client } = await serviceWith(sts);
    const error = await client.vend(request()).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(AirlockError);
    expect(error).toMatchObject({ code });
  });

  it('names the role when STS refuses it', async () => {
    const { sts } = scriptedSts(async () => {
      throw sdkError('AccessDenied', 403);
    });
    const { client } = await serviceWith(sts);
    await expect(client.vend(request())).rejects.toThrow(`STS refused to let Airlock assume role ${roleArn}`);
  });

  it('says STS is unreachable when the connection fails', async () => {
    const { sts } = scriptedSts(async () => {
      throw Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:1'), { code: 'ECONNREFUSED', $metadata: {} });
    });
    const { client } = await serviceWith(sts);
    const error = (await client.vend(request()).catch((caught: unknown) => caught)) as AirlockError;
    expect(error).toMatchObject({ code: 'DependencyUnavailable' });
    expect(error.message).toContain('STS is unreachable');
    expect(error.retryable).toBe(true);
  });

  it('never logs vended credentials', async () => {
    const destination = new PassThrough();
    const chunks: Buffer[] = [];
    destination.on('data', (chunk: Buffer) => chunks.push(chunk));
    const { sts } = scriptedSts(async (_input, call) => {
      if (call === 2) throw Object.assign(sdkError('AccessDenied', 403), { leaked: secret });
      return credentialsAt(call, Date.now() + 3_600_000);
    });
    const { client } = await serviceWith(sts, { destination });
    await client.vend(request());
    await client.vend(request({ approvalId: 'apr-2', notAfterMs: Date.now() + 7_200_000 })).catch(() => undefined);
    const log = Buffer.concat(chunks).toString();
    expect(log).toContain('credentials vended');
    expect(log).toContain('vending credentials failed');
    expect(log).not.toContain(secret);
    expect(log).not.toContain('token-1');
  });
});

describe('Vend scoping', () => {
  const policy = JSON.stringify({
    Version: '2012-10-17',
    Statement: [{ Effect: 'Allow', Action: 's3:GetObject', Resource: 'arn:aws:s3:::reports/q3.csv' }],
  });

  it('sends the given session policy unchanged when the lifetime fits STS', async () => {
    const { sts, inputs } = scriptedSts(async (_input, call) => credentialsAt(call, Date.now() + 3_600_000));
    const { client } = await serviceWith(sts, { durationSeconds: 3600 });
    await client.vend(request({ sessionPolicy: policy, maxDurationSeconds: 1200, approvalId: 'apr-7', notAfterMs: Date.now() + 7_200_000 }));
    expect(inputs[0]).toMatchObject({ policy, durationSeconds: 1200 });
  });

  it('bounds credentials shorter than STS allows by aws:CurrentTime in the session policy', async () => {
    const now = Date.parse('2026-11-26T10:00:00.250Z');
    const { sts, inputs } = scriptedSts(async (_input, call) => credentialsAt(call, now + 900_000));
    const { client } = await serviceWith(sts, { durationSeconds: 3600, now: () => now });
    const answer = await client.vend(request({ sessionPolicy: policy, maxDurationSeconds: 120 }));
    expect(inputs[0]?.durationSeconds).toBe(900);
    expect(JSON.parse(inputs[0]!.policy!)).toEqual({
      Version: '2012-10-17',
      Statement: [
        { Effect: 'Allow', Action: 's3:GetObject', Resource: 'arn:aws:s3:::reports/q3.csv' },
        { Sid: 'AirlockNotAfter', Effect: 'Deny', Action: '*', Resource: '*', Condition: { DateGreaterThanEquals: { 'aws:CurrentTime': '2026-11-26T10:02:00Z' } } },
      ],
    });
    // The edge learns the real end, not STS's 15 minutes.
    expect(answer.credentials?.expirationMs).toBe(Date.parse('2026-11-26T10:02:00Z'));
  });

  it('bounds the role\'s own permissions in time when no session policy is given', async () => {
    const now = Date.parse('2026-11-26T10:00:00Z');
    const { sts, inputs } = scriptedSts(async (_input, call) => credentialsAt(call, now + 900_000));
    const { client } = await serviceWith(sts, { now: () => now });
    await client.vend(request({ maxDurationSeconds: 300 }));
    expect(JSON.parse(inputs[0]!.policy!)).toEqual({
      Version: '2012-10-17',
      Statement: [{ Sid: 'AirlockNotAfter', Effect: 'Allow', Action: '*', Resource: '*', Condition: { DateLessThan: { 'aws:CurrentTime': '2026-11-26T10:05:00Z' } } }],
    });
  });

  it('refuses a session policy that is not an IAM policy document, without calling STS', async () => {
    const { sts, inputs } = scriptedSts(async (_input, call) => credentialsAt(call, Date.now() + 3_600_000));
    const { client } = await serviceWith(sts);
    await expect(client.vend(request({ sessionPolicy: 'allow everything' }))).rejects.toMatchObject({ code: 'InvalidRequest' });
    await expect(client.vend(request({ sessionPolicy: '[]' }))).rejects.toMatchObject({ code: 'InvalidRequest' });
    expect(inputs).toHaveLength(0);
  });
});

describe('Vend time bounds (approval window, session end)', () => {
  const start = Date.parse('2026-11-26T10:00:00Z');

  it('cuts DurationSeconds to the bound where STS allows, and serves the credentials until the bound, not refreshed ahead', async () => {
    let now = start;
    const { sts, inputs } = scriptedSts(async (input, call) => credentialsAt(call, now + input.durationSeconds * 1000));
    const { client } = await serviceWith(sts, { durationSeconds: 3600, now: () => now });
    const bound = start + 2_000_500;
    const first = await client.vend(request({ notAfterMs: bound }));
    expect(inputs[0]).toMatchObject({ durationSeconds: 2000 });
    expect(inputs[0]).not.toHaveProperty('policy');
    expect(first.credentials?.expirationMs).toBe(start + 2_000_000);
    // Five minutes before the end a new STS call would end no later: the same credentials, to their end.
    now = start + 1_999_999;
    expect(await client.vend(request({ notAfterMs: bound }))).toEqual(first);
    expect(inputs).toHaveLength(1);
  });

  it('bounds the credentials by aws:CurrentTime when the bound is nearer than STS allows, and never serves them past it', async () => {
    let now = start;
    const { sts, inputs } = scriptedSts(async (_input, call) => credentialsAt(call, now + 900_000));
    const { client } = await serviceWith(sts, { durationSeconds: 900, now: () => now });
    const policy = JSON.stringify({ Version: '2012-10-17', Statement: [{ Sid: 'Airlock', Effect: 'Allow', Action: ['ec2:TerminateInstances'], Resource: ['*'] }] });
    const approved = request({ sessionPolicy: policy, approvalId: 'apr-9', notAfterMs: start + 600_750 });
    const first = await client.vend(approved);
    expect(inputs[0]?.durationSeconds).toBe(900);
    expect(JSON.parse(inputs[0]!.policy!)).toEqual({
      Version: '2012-10-17',
      Statement: [
        { Sid: 'Airlock', Effect: 'Allow', Action: ['ec2:TerminateInstances'], Resource: ['*'] },
        { Sid: 'AirlockNotAfter', Effect: 'Deny', Action: '*', Resource: '*', Condition: { DateGreaterThanEquals: { 'aws:CurrentTime': '2026-11-26T10:10:00Z' } } },
      ],
    });
    expect(first.credentials?.expirationMs).toBe(start + 600_000);
    now = start + 599_999;
    expect(await client.vend(approved)).toEqual(first);
    now = start + 600_000;
    await expect(client.vend(approved)).rejects.toMatchObject({ code: 'AccessDenied', message: expect.stringContaining('2026-11-26T10:10:00Z, which has passed') });
    expect(inputs).toHaveLength(1);
  });

  it('refreshes ahead as usual while the bound is far, and keeps to it once it is near', async () => {
    let now = start;
    const { sts, inputs } = scriptedSts(async (input, call) => credentialsAt(call, now + input.durationSeconds * 1000));
    const { client } = await serviceWith(sts, { durationSeconds: 900, now: () => now });
    const bound = request({ notAfterMs: start + 1_200_000 });
    await client.vend(bound);
    expect(inputs[0]).toMatchObject({ durationSeconds: 900 });
    now = start + 600_000;
    const second = await client.vend(bound);
    // 600 s left: STS's 900 s with the bound in the policy, served to the end.
    expect(inputs[1]).toMatchObject({ durationSeconds: 900, policy: expect.stringContaining('2026-11-26T10:20:00Z') });
    expect(second.credentials?.expirationMs).toBe(start + 1_200_000);
    now = start + 1_199_000;
    expect(await client.vend(bound)).toEqual(second);
    expect(inputs).toHaveLength(2);
  });

  it('refuses, without calling STS, a bounded session policy longer than STS accepts', async () => {
    const { sts, inputs } = scriptedSts(async (_input, call) => credentialsAt(call, start + 900_000));
    const { client } = await serviceWith(sts, { now: () => start });
    // Within STS's limit on its own; past it with the time bound added.
    const policyOf = (count: number) =>
      JSON.stringify({ Version: '2012-10-17', Statement: [{ Sid: 'Airlock', Effect: 'Allow', Action: ['s3:GetObject'], Resource: Array.from({ length: count }, (_, i) => `arn:aws:s3:::reports/q${i}.csv`) }] });
    let count = 1;
    while (policyOf(count + 1).length <= 2048) count++;
    const sessionPolicy = policyOf(count);
    await expect(client.vend(request({ sessionPolicy, notAfterMs: start + 300_000 }))).rejects.toMatchObject({
      code: 'InvalidRequest',
      message: expect.stringContaining('STS accepts at most 2048'),
    });
    expect(inputs).toHaveLength(0);
  });

  it('serves credentials shorter than the refresh-ahead window for half their life instead of calling STS on every request', async () => {
    let now = start;
    const { sts, inputs } = scriptedSts(async (_input, call) => credentialsAt(call, now + 900_000));
    const { client } = await serviceWith(sts, { now: () => now });
    const first = await client.vend(request({ maxDurationSeconds: 120 }));
    now = start + 59_999;
    expect(await client.vend(request({ maxDurationSeconds: 120 }))).toEqual(first);
    now = start + 60_000;
    expect((await client.vend(request({ maxDurationSeconds: 120 }))).credentials?.accessKeyId).toBe('ASIA2');
    expect(inputs).toHaveLength(2);
  });
});

describe('Vend retries', () => {
  it('retries throttling with growing backoff and succeeds', async () => {
    const sleeps: number[] = [];
    const { sts, inputs } = scriptedSts(async (_input, call) => {
      if (call < 3) throw sdkError('Throttling', 400);
      return credentialsAt(call, Date.now() + 3_600_000);
    });
    const { client } = await serviceWith(sts, { sleeps });
    expect((await client.vend(request())).credentials?.accessKeyId).toBe('ASIA3');
    expect(inputs).toHaveLength(3);
    expect(sleeps).toEqual([100, 200]);
  });

  it.each([
    ['Throttling', 400, 'client', 'Throttled'],
    ['ServiceUnavailable', 503, 'server', 'DependencyUnavailable'],
  ] as const)('gives up on a lasting %s after the bounded attempts, with a retryable %s', async (name, status, fault, code) => {
    const { sts, inputs } = scriptedSts(async () => {
      throw sdkError(name, status, fault);
    });
    const { client } = await serviceWith(sts, { attempts: 4 });
    const error = (await client.vend(request()).catch((caught: unknown) => caught)) as AirlockError;
    expect(error).toMatchObject({ code, retryable: true });
    expect(inputs).toHaveLength(4);
  });

  it('retries a refused connection, and recovers', async () => {
    const { sts, inputs } = scriptedSts(async (_input, call) => {
      if (call === 1) throw Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:1'), { code: 'ECONNREFUSED', $metadata: {} });
      return credentialsAt(call, Date.now() + 3_600_000);
    });
    const { client } = await serviceWith(sts);
    expect((await client.vend(request())).credentials?.accessKeyId).toBe('ASIA2');
    expect(inputs).toHaveLength(2);
  });

  it.each(['AccessDenied', 'InvalidClientTokenId', 'MalformedPolicyDocument'])('does not retry %s', async (name) => {
    const { sts, inputs } = scriptedSts(async () => {
      throw sdkError(name, 403);
    });
    const { client } = await serviceWith(sts);
    await expect(client.vend(request())).rejects.toBeInstanceOf(AirlockError);
    expect(inputs).toHaveLength(1);
  });
});
