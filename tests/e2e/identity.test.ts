import { randomBytes } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { CreateBucketCommand, ListBucketsCommand, S3Client } from '@aws-sdk/client-s3';
import { AssumeRoleWithWebIdentityCommand, GetCallerIdentityCommand, STSClient, type AssumeRoleWithWebIdentityCommandOutput } from '@aws-sdk/client-sts';
import { decodeJwt, decodeProtectedHeader, exportSPKI, generateKeyPair, importJWK, SignJWT, type CryptoKey, type JWTPayload } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createFileBlobStore } from '@airlock/blob';
import { startEmbeddedAirlock, type AirlockUnderTest } from '../support/airlock.js';
import { createAwsWorld, type AwsWorld } from '../support/aws-world.js';
import { startIdp, type TestIdp } from '../support/idp.js';

const repoRoot = fileURLToPath(new URL('../..', import.meta.url));
const sessionKeys = `identity-1:${randomBytes(32).toString('base64')}`;
const ACCOUNT = '123456789012';
const PEOPLE_GROUPS_CLAIM = 'https://airlock.example/groups';
const WORKLOAD_AUDIENCE = 'sts.airlock.example';
const BILLING_SA = 'system:serviceaccount:agents:billing';

/**
 * Two issuers at once, shaped like the identities teams really have:
 * - people: a company IdP; the subject is `preferred_username`, groups come in a URL-named claim, sessions last 15 minutes
 *   at most, and only the agent role and `people-*` roles may be used;
 * - workloads: Kubernetes service-account tokens; the subject is `system:serviceaccount:<ns>:<name>`, the namespace
 *   (`kubernetes.io.namespace`, a claim whose name has a dot) serves as the group, and only `agent` and `ci-*` roles.
 * A policy on top lets only the groups `engineers` and `agents` use roles, so the claim mappings visibly decide.
 */
describe('identity: two issuers, key rotation, IdP outage, refusals (embedded Airlock)', () => {
  let world: AwsWorld;
  let people: TestIdp;
  let workloads: TestIdp;
  let airlock: AirlockUnderTest;
  let scratch: string;
  /** Every token the test handed to Airlock; none may appear in its logs. */
  const tokensSeen: string[] = [];

  beforeAll(async () => {
    scratch = await mkdtemp(join(tmpdir(), 'airlock-identity-'));
    [world, people, workloads] = await Promise.all([
      createAwsWorld(),
      startIdp({
        audience: 'airlock',
        groups: ['engineers'],
        groupsClaim: PEOPLE_GROUPS_CLAIM,
        tokenTtlSeconds: 3600,
        claims: (clientId) => ({ preferred_username: clientId, name: `Person ${clientId}`, email: `${clientId}@example.com` }),
      }),
      startIdp({
        audience: WORKLOAD_AUDIENCE,
        tokenTtlSeconds: 600,
        claims: (clientId) => {
          const [, , namespace = '', name = ''] = clientId.split(':');
          return { 'kubernetes.io': { namespace, serviceaccount: { name, uid: `uid-${name}` } } };
        },
      }),
    ]);
    const groupsPolicy = join(scratch, 'groups.cedar');
    await writeFile(
      groupsPolicy,
      `@id("roles-need-a-known-group")
@reason("only engineers and workloads of the agents namespace may use roles")
forbid (principal, action == Airlock::Action::"sts:AssumeRoleWithWebIdentity", resource)
unless { principal in Airlock::Group::"engineers" || principal in Airlock::Group::"agents" };
`,
    );
    airlock = await startEmbeddedAirlock({
      config: {
        identity: {
          issuers: [
            {
              issuer: people.issuer,
              audience: 'airlock',
              kind: 'people',
              claims: { subject: 'preferred_username', groups: PEOPLE_GROUPS_CLAIM },
              roles: [world.roleArn, `arn:aws:iam::${ACCOUNT}:role/people-*`],
              maxSessionSeconds: 900,
            },
            {
              issuer: workloads.issuer,
              audience: WORKLOAD_AUDIENCE,
              kind: 'workloads',
              claims: { name: 'kubernetes.io.serviceaccount.name', groups: 'kubernetes.io.namespace' },
              roles: ['arn:aws:iam::*:role/agent', `arn:aws:iam::${ACCOUNT}:role/ci-*`],
            },
          ],
        },
        upstream: { endpoint: world.moto.url },
        policy: { files: [join(repoRoot, 'policies/default.cedar'), groupsPolicy] },
        edge: { allowedRegions: ['us-east-1'] },
        logging: { level: 'info' },
      },
      env: { ...world.vendingEnv, AIRLOCK_SESSION_KEYS: sessionKeys },
    });
  });

  afterAll(async () => {
    await airlock?.stop();
    await Promise.all([world?.stop(), people?.stop(), workloads?.stop()]);
    if (scratch) await rm(scratch, { recursive: true, force: true });
  });

  /** sts:AssumeRoleWithWebIdentity on Airlock, exactly as an SDK's web-identity credential provider calls it. */
  const assume = (token: string, options: { role?: string; durationSeconds?: number; sessionName?: string } = {}): Promise<AssumeRoleWithWebIdentityCommandOutput> => {
    tokensSeen.push(token);
    return new STSClient({ region: 'us-east-1', endpoint: airlock.url, maxAttempts: 1 }).send(
      new AssumeRoleWithWebIdentityCommand({
        RoleArn: options.role ?? world.roleArn,
        RoleSessionName: options.sessionName ?? 'identity-test',
        WebIdentityToken: token,
        ...(options.durationSeconds === undefined ? {} : { DurationSeconds: options.durationSeconds }),
      }),
    );
  };
  /** Clients signed with the Airlock session an assumption bought. */
  const through = ({ Credentials }: AssumeRoleWithWebIdentityCommandOutput) => {
    const credentials = { accessKeyId: Credentials!.AccessKeyId!, secretAccessKey: Credentials!.SecretAccessKey!, sessionToken: Credentials!.SessionToken! };
    return {
      s3: new S3Client({ region: 'us-east-1', endpoint: airlock.url, forcePathStyle: true, credentials, maxAttempts: 1 }),
      sts: new STSClient({ region: 'us-east-1', endpoint: airlock.url, credentials, maxAttempts: 1 }),
    };
  };
  const now = () => Math.floor(Date.now() / 1000);
  const jwksRequests = (idp: TestIdp) => idp.requests().filter((path) => path === '/jwks').length;
  const personClaims = (username: string, extra: JWTPayload = {}): JWTPayload => ({
    aud: 'airlock',
    sub: `opaque-${username}`,
    preferred_username: username,
    [PEOPLE_GROUPS_CLAIM]: ['engineers'],
    exp: now() + 600,
    ...extra,
  });
  const workloadClaims = (extra: JWTPayload = {}): JWTPayload => ({
    aud: WORKLOAD_AUDIENCE,
    sub: BILLING_SA,
    'kubernetes.io': { namespace: 'agents', serviceaccount: { name: 'billing' } },
    exp: now() + 600,
    ...extra,
  });

  it('lets a person and a workload reach moto, each read through its own claim mapping', async () => {
    const ada = await assume(await people.issueToken({ clientId: 'ada' }));
    expect(ada).toMatchObject({ SubjectFromWebIdentityToken: 'ada', Provider: people.issuer, Audience: 'airlock' });
    const adaClients = through(ada);
    expect((await adaClients.sts.send(new GetCallerIdentityCommand({}))).Arn).toMatch(new RegExp(`^arn:aws:sts::${ACCOUNT}:assumed-role/agent/airlock-ada$`));
    await adaClients.s3.send(new CreateBucketCommand({ Bucket: 'identity-people' }));
    expect((await adaClients.s3.send(new ListBucketsCommand({}))).Buckets?.map((bucket) => bucket.Name)).toContain('identity-people');

    const billing = await assume(await workloads.issueToken({ clientId: BILLING_SA }));
    expect(billing).toMatchObject({ SubjectFromWebIdentityToken: BILLING_SA, Provider: workloads.issuer, Audience: WORKLOAD_AUDIENCE });
    const billingClients = through(billing);
    expect((await billingClients.sts.send(new GetCallerIdentityCommand({}))).Arn).toMatch(
      new RegExp(`^arn:aws:sts::${ACCOUNT}:assumed-role/agent/airlock-system-serviceaccount-agents-billing`),
    );
    expect((await billingClients.s3.send(new ListBucketsCommand({}))).Buckets?.map((bucket) => bucket.Name)).toContain('identity-people');

    // The sessions carry the mapped identities: name or e-mail, and groups taken from the configured claims.
    const started = await waitForStartedSessions(['ada', BILLING_SA]);
    expect(started.get('ada')).toMatchObject({ issuer: people.issuer, name: 'ada@example.com', groups: ['engineers'] });
    expect(started.get(BILLING_SA)).toMatchObject({ issuer: workloads.issuer, name: 'billing', groups: ['agents'] });
  });

  it('decides with the mapped groups: a person whose groups are not in the configured claim is refused by policy', async () => {
    // `groups` is not the claim this issuer's groups are read from, so the person has no groups at all.
    const token = await people.sign(personClaims('mallory', { [PEOPLE_GROUPS_CLAIM]: undefined, groups: ['engineers'] }));
    await expect(assume(token)).rejects.toMatchObject({ name: 'AccessDenied', message: expect.stringContaining('only engineers and workloads of the agents namespace') });
    // A workload in another namespace is refused the same way.
    const other = await workloads.sign(workloadClaims({ sub: 'system:serviceaccount:default:web', 'kubernetes.io': { namespace: 'default', serviceaccount: { name: 'web' } } }));
    await expect(assume(other)).rejects.toMatchObject({ name: 'AccessDenied', message: expect.stringContaining('only engineers') });
  });

  it('caps each session by the issuer, the edge and the token', async () => {
    // People: the issuer allows 900 seconds, whatever the client asks and however long the token lives.
    const personToken = await people.issueToken({ clientId: 'grace' });
    expect(decodeJwt(personToken).exp! - now()).toBeGreaterThan(3000);
    const grace = await assume(personToken, { durationSeconds: 43_200 });
    expect(grace.Credentials!.Expiration!.getTime()).toBeLessThanOrEqual((now() + 900) * 1000);
    expect(grace.Credentials!.Expiration!.getTime()).toBeGreaterThan(Date.now());

    // Workloads: no issuer cap; the edge allows 3600 seconds, but the token expires within 600.
    const workloadToken = await workloads.issueToken({ clientId: BILLING_SA });
    const billing = await assume(workloadToken, { durationSeconds: 43_200 });
    expect(billing.Credentials!.Expiration!.getTime()).toBeLessThanOrEqual(decodeJwt(workloadToken).exp! * 1000);

    // A session the client asks to be shorter is shorter.
    const shortToken = await workloads.sign(workloadClaims({ exp: now() + 3000 }));
    const short = await assume(shortToken, { durationSeconds: 900 });
    expect(short.Credentials!.Expiration!.getTime()).toBeLessThanOrEqual((now() + 900) * 1000);
  });

  it('follows a key rotation in the middle of the run: the new kid is fetched once, old tokens keep working while published', async () => {
    const before = await people.issueToken({ clientId: 'ada' });
    await assume(before);
    const fetchedBefore = jwksRequests(people);
    const oldKid = people.currentKid();

    await people.rotateKeys();
    const after = await Promise.all(['ada', 'grace', 'linus'].map((clientId) => people.issueToken({ clientId })));
    expect(new Set(after.map((token) => decodeProtectedHeader(token).kid))).toEqual(new Set([people.currentKid()]));
    expect(people.currentKid()).not.toBe(oldKid);

    const sessions = await Promise.all(after.map((token) => assume(token)));
    expect(sessions.map((session) => session.SubjectFromWebIdentityToken)).toEqual(['ada', 'grace', 'linus']);
    await expect(assume(before)).resolves.toMatchObject({ SubjectFromWebIdentityToken: 'ada' });
    expect((await through(sessions[0]!).s3.send(new ListBucketsCommand({}))).Buckets).toBeDefined();
    expect(jwksRequests(people) - fetchedBefore).toBe(1);
  });

  describe('refusals, each with the STS error an SDK understands, and nothing forwarded', () => {
    const refusedSubjects: string[] = [];
    const refusedToken = (subject: string, token: string) => {
      refusedSubjects.push(subject);
      return token;
    };

    it('refuses alg "none" and an HMAC token keyed with the issuer\'s public key', async () => {
      const encode = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');
      const unsigned = `${encode({ alg: 'none', typ: 'JWT' })}.${encode({ iss: people.issuer, ...personClaims('eve-none') })}.`;
      await expect(assume(refusedToken('eve-none', unsigned))).rejects.toMatchObject({ name: 'InvalidIdentityTokenException', message: expect.stringContaining('not signed') });

      const published = people.publicKeys()[0]!;
      const pem = await exportSPKI((await importJWK(published, 'RS256', { extractable: true })) as CryptoKey);
      for (const secret of [pem, JSON.stringify(published)]) {
        const confused = await new SignJWT({ iss: people.issuer, ...personClaims('eve-hmac') })
          .setProtectedHeader({ alg: 'HS256', kid: published.kid!, typ: 'JWT' })
          .sign(new TextEncoder().encode(secret));
        await expect(assume(refusedToken('eve-hmac', confused))).rejects.toMatchObject({ name: 'InvalidIdentityTokenException', message: expect.stringContaining('HS256') });
      }
    });

    it('refuses a wrong issuer, a wrong audience, and a token signed by another trusted issuer', async () => {
      const unknownIssuer = await people.sign(personClaims('eve-iss', { iss: 'https://idp.unknown.example' }));
      await expect(assume(refusedToken('eve-iss', unknownIssuer))).rejects.toMatchObject({ name: 'InvalidIdentityTokenException', message: expect.stringContaining('not one Airlock trusts') });
      const wrongAudience = await people.sign(personClaims('eve-aud', { aud: WORKLOAD_AUDIENCE }));
      await expect(assume(refusedToken('eve-aud', wrongAudience))).rejects.toMatchObject({ name: 'InvalidIdentityTokenException', message: expect.stringContaining('audience') });
      // A workload token dressed up as one from the people IdP: the people IdP never published that key.
      const crossed = await workloads.sign(personClaims('eve-crossed', { iss: people.issuer }));
      await expect(assume(refusedToken('eve-crossed', crossed))).rejects.toMatchObject({ name: 'InvalidIdentityTokenException' });
    });

    it('refuses an expired token and one not yet valid beyond the clock skew, and accepts skew within bounds', async () => {
      const expired = await people.sign(personClaims('eve-expired', { iat: now() - 1200, exp: now() - 600 }));
      await expect(assume(refusedToken('eve-expired', expired))).rejects.toMatchObject({ name: 'ExpiredTokenException' });
      const early = await people.sign(personClaims('eve-early', { nbf: now() + 600 }));
      await expect(assume(refusedToken('eve-early', early))).rejects.toMatchObject({ name: 'InvalidIdentityTokenException', message: expect.stringContaining('not valid yet') });
      const future = await people.sign(personClaims('eve-future', { iat: now() + 3600, exp: now() + 7200 }));
      await expect(assume(refusedToken('eve-future', future))).rejects.toMatchObject({ name: 'InvalidIdentityTokenException', message: expect.stringContaining('issued in the future') });
      // 20 seconds of skew either way is within the 60-second tolerance.
      await expect(assume(await people.sign(personClaims('ada', { nbf: now() + 20, iat: now() + 20 })))).resolves.toMatchObject({ SubjectFromWebIdentityToken: 'ada' });
    });

    it('refuses a token without the issuer\'s subject claim', async () => {
      const noUsername = await people.sign(personClaims('eve-nouser', { preferred_username: undefined }));
      refusedSubjects.push('opaque-eve-nouser');
      await expect(assume(noUsername)).rejects.toMatchObject({ name: 'InvalidIdentityTokenException', message: expect.stringContaining('no subject (preferred_username)') });
      const noSub = await workloads.sign(workloadClaims({ sub: undefined }));
      await expect(assume(noSub)).rejects.toMatchObject({ name: 'InvalidIdentityTokenException', message: expect.stringContaining('no subject (sub)') });
    });

    it('refuses oversized and malformed tokens', async () => {
      const oversized = await people.sign(personClaims('eve-big', { padding: 'x'.repeat(20 * 1024) }));
      await expect(assume(refusedToken('eve-big', oversized))).rejects.toMatchObject({ name: 'InvalidIdentityTokenException', message: expect.stringContaining('larger than 16 KiB') });
      for (const garbage of ['not-a-token', 'a.b.c', 'a.b.c.d.e', `${Buffer.from('{"alg":"RS256"}').toString('base64url')}.%%%.sig`]) {
        await expect(assume(garbage)).rejects.toMatchObject({ name: 'InvalidIdentityTokenException' });
      }
    });

    it('refuses tokens signed with a key the issuer does not publish, and a storm of them costs the IdP at most one request', async () => {
      const stranger = await generateKeyPair('RS256');
      const fetchedBefore = jwksRequests(people);
      const forged = await Promise.all(
        Array.from({ length: 10 }, (_, n) =>
          new SignJWT({ iss: people.issuer, ...personClaims(`eve-kid-${n}`) }).setProtectedHeader({ alg: 'RS256', kid: `made-up-${n}` }).sign(stranger.privateKey),
        ),
      );
      const results = await Promise.allSettled(forged.map((token, n) => assume(refusedToken(`eve-kid-${n}`, token))));
      for (const result of results) {
        expect(result).toMatchObject({ status: 'rejected', reason: { name: 'InvalidIdentityTokenException', message: expect.stringContaining('does not publish') } });
      }
      expect(jwksRequests(people) - fetchedBefore).toBeLessThanOrEqual(1);
    });

    it('refuses a role the issuer may not use before policy is asked, with AccessDenied', async () => {
      const personToken = await people.issueToken({ clientId: 'ada' });
      await expect(assume(personToken, { role: `arn:aws:iam::${ACCOUNT}:role/ci-deploy` })).rejects.toMatchObject({
        name: 'AccessDenied',
        message: expect.stringContaining(`tokens from the identity provider ${people.issuer} may not use this role`),
      });
      const workloadToken = await workloads.issueToken({ clientId: BILLING_SA });
      await expect(assume(workloadToken, { role: `arn:aws:iam::${ACCOUNT}:role/people-admin` })).rejects.toMatchObject({
        name: 'AccessDenied',
        message: expect.stringContaining('may not use this role'),
      });
      // Group policy would refuse this one too; the issuer's role list answers first.
      const stranger = await workloads.sign(workloadClaims({ sub: 'system:serviceaccount:default:eve', 'kubernetes.io': { namespace: 'default' } }));
      refusedSubjects.push('system:serviceaccount:default:eve');
      await expect(assume(stranger, { role: `arn:aws:iam::${ACCOUNT}:role/people-admin` })).rejects.toMatchObject({ message: expect.stringContaining('may not use this role') });
    });

    it('forwards nothing for a refused token: the agent\'s call never reaches AWS, and no session is issued', async () => {
      const expired = await people.sign(personClaims('eve-agent', { iat: now() - 1200, exp: now() - 600 }));
      refusedSubjects.push('eve-agent');
      // What the SDK's web-identity credential provider does: exchange the token at Airlock, then sign the call.
      const credentials = async () => {
        const { Credentials } = await assume(expired);
        return { accessKeyId: Credentials!.AccessKeyId!, secretAccessKey: Credentials!.SecretAccessKey!, sessionToken: Credentials!.SessionToken! };
      };
      const s3 = new S3Client({ region: 'us-east-1', endpoint: airlock.url, forcePathStyle: true, credentials, maxAttempts: 1 });
      await expect(s3.send(new CreateBucketCommand({ Bucket: 'never-refused-identity' }))).rejects.toMatchObject({ name: 'ExpiredTokenException' });
      expect(await bucketsAtMoto()).not.toContain('never-refused-identity');
      expect(await bucketsAtMoto()).toContain('identity-people');

      const issued = sessionsIssuedInLogs();
      expect(issued).toContain('ada');
      for (const subject of refusedSubjects) expect(issued).not.toContain(subject);
    });
  });

  it('keeps accepting tokens signed by known keys while the IdPs are down, and recovers when they are back on the same port', async () => {
    const personToken = await people.issueToken({ clientId: 'ada' });
    const workloadToken = await workloads.issueToken({ clientId: BILLING_SA });
    await Promise.all([people.stop(), workloads.stop()]);
    await expect(fetch(`${people.issuer}/jwks`)).rejects.toThrow();
    await expect(fetch(`${workloads.issuer}/jwks`)).rejects.toThrow();

    const ada = await assume(personToken);
    expect((await through(ada).s3.send(new ListBucketsCommand({}))).Buckets?.map((bucket) => bucket.Name)).toContain('identity-people');
    const billing = await assume(workloadToken);
    expect((await through(billing).sts.send(new GetCallerIdentityCommand({}))).Arn).toContain(':assumed-role/agent/');
    // Tokens minted during the outage with a known key (the IdP's key material is still valid) verify too.
    await expect(assume(await people.sign(personClaims('linus')))).resolves.toMatchObject({ SubjectFromWebIdentityToken: 'linus' });

    // A key Airlock has never seen cannot be checked while the IdP is down: a retryable IDPCommunicationError.
    await workloads.rotateKeys();
    await expect(assume(await workloads.sign(workloadClaims()))).rejects.toMatchObject({ name: 'IDPCommunicationErrorException', message: expect.stringContaining('Retry later') });

    await Promise.all([people.start(), workloads.start()]);
    expect((await fetch(`${people.issuer}/.well-known/openid-configuration`)).status).toBe(200);
    await expect(assume(await people.issueToken({ clientId: 'grace' }))).resolves.toMatchObject({ SubjectFromWebIdentityToken: 'grace' });
  });

  it('never writes a token to its logs', () => {
    const logs = airlock.output();
    expect(tokensSeen.length).toBeGreaterThan(20);
    for (const token of tokensSeen) {
      const signature = token.split('.')[2];
      if (signature && signature.length > 20) expect(logs).not.toContain(signature);
    }
  });

  async function bucketsAtMoto(): Promise<string[]> {
    const s3 = new S3Client({ region: 'us-east-1', endpoint: world.moto.url, forcePathStyle: true, credentials: world.vendingIdentity });
    const { Buckets } = await s3.send(new ListBucketsCommand({}));
    return (Buckets ?? []).map((bucket) => bucket.Name ?? '');
  }

  /** Subjects of the sessions Airlock logged as issued. */
  function sessionsIssuedInLogs(): string[] {
    return airlock
      .output()
      .split('\n')
      .filter((line) => line.includes('session issued'))
      .map((line) => {
        try {
          return String((JSON.parse(line) as { subject?: unknown }).subject);
        } catch {
          return line;
        }
      });
  }

  interface StartedPrincipal {
    subject: string;
    issuer: string;
    name: string;
    groups: string[];
  }

  /** The session-started events recorded for these subjects (recordings are written in batches, so this polls). */
  async function waitForStartedSessions(subjects: string[]): Promise<Map<string, StartedPrincipal>> {
    const found = new Map<string, StartedPrincipal>();
    for (let attempt = 0; attempt < 100 && subjects.some((subject) => !found.has(subject)); attempt++) {
      if (attempt > 0) await new Promise((resolve) => setTimeout(resolve, 200));
      const recordings = await createFileBlobStore({ dir: join(airlock.dataDir, 'recordings') });
      for await (const { key } of recordings.list('sessions/')) {
        const text = Buffer.from((await recordings.get(key)) ?? []).toString('utf8');
        for (const line of text.split('\n').filter(Boolean)) {
          const principal = (JSON.parse(line) as { started?: { principal?: StartedPrincipal } }).started?.principal;
          if (principal && subjects.includes(principal.subject)) found.set(principal.subject, principal);
        }
      }
      await recordings.close();
    }
    return found;
  }
});
