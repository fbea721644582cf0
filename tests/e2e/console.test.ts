import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { CreateBucketCommand, DeleteBucketCommand, GetObjectCommand, ListBucketsCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { assumeThroughAirlock, s3ThroughAirlock, type SessionCredentials } from '../support/agent-credentials.js';
import { startEmbeddedAirlock, type AirlockUnderTest } from '../support/airlock.js';
import { createAwsWorld, type AwsWorld } from '../support/aws-world.js';
import { startBrowserIdp, type BrowserIdp } from '../support/browser-idp.js';
import { startIdp } from '../support/idp.js';
import { freePort } from '../support/peers.js';
import { allowPolicy, signInPolicy, writePolicyFile } from '../support/policies.js';

const repoRoot = fileURLToPath(new URL('../..', import.meta.url));
const artifacts = join(repoRoot, 'test-artifacts/console');
/** Debian's chromium (`apt-get install chromium`; scripts/test.sh installs it). */
const chromiumPath = '/usr/bin/chromium';
const chromiumArgs = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];
const axeSource = (createRequire(import.meta.url)('axe-core') as { source: string }).source;
const sessionKeys = `test-1:${randomBytes(32).toString('base64')}`;
const recorderKey = `console-test:${randomBytes(32).toString('base64')}`;

type Idp = Awaited<ReturnType<typeof startIdp>>;

if (!existsSync(chromiumPath)) {
  console.warn(`console e2e skipped: ${chromiumPath} is missing and could not be installed (apt-get install chromium; see scripts/test.sh).`);
}

/**
 * The console end to end, in a real browser: Debian's chromium driven by playwright-core signs a manager in at a real
 * OpenID Provider (authorization code + PKCE), decides a held AWS SDK call live, replays and verifies the recorded
 * session, revokes the agent's session, and reads the policy. Each page is screenshotted into test-artifacts/console
 * and checked with axe-core for serious accessibility violations.
 */
describe.skipIf(!existsSync(chromiumPath))('console: approvals, sessions, recordings and policy in the browser', () => {
  let world: AwsWorld;
  let agents: Idp;
  let people: BrowserIdp;
  let airlock: AirlockUnderTest;
  let consoleUrl: string;
  let scratch: string;
  let browser: BrowserContext;
  let page: Page;
  let agent: SessionCredentials;
  let agentSessionId: string;

  beforeAll(async () => {
    scratch = await mkdtemp(join(tmpdir(), 'airlock-console-'));
    await mkdir(artifacts, { recursive: true });
    const consolePort = await freePort();
    consoleUrl = `http://127.0.0.1:${consolePort}`;
    [world, agents, people] = await Promise.all([
      createAwsWorld(),
      startIdp({ audience: 'airlock', groups: ['agents'] }),
      startBrowserIdp({
        clientId: 'airlock-console',
        redirectUris: [`${consoleUrl}/auth/callback`],
        accounts: {
          maria: { name: 'Maria Manager', email: 'maria@example.com', groups: ['managers', 'airlock-admins'] },
          nina: { name: 'Nina Engineer', email: 'nina@example.com', groups: ['engineers'] },
        },
      }),
    ]);
    const policyFile = await writePolicyFile(scratch, 'console.cedar', [
      signInPolicy,
      allowPolicy('agents-use-s3', ['s3:CreateBucket', 's3:PutObject', 's3:GetObject', 's3:ListAllMyBuckets']),
      `@id("delete-bucket-needs-a-manager")
@approval("managers")
permit (principal, action == Airlock::Action::"s3:DeleteBucket", resource);
`,
    ]);
    airlock = await startEmbeddedAirlock({
      config: {
        identity: {
          issuers: [
            { issuer: agents.issuer, audience: 'airlock' },
            // People sign in to the console; the edge is shown their ID token, whose audience is the console's client id.
            { issuer: people.issuer, audience: 'airlock-console', kind: 'people' },
          ],
        },
        upstream: { endpoint: world.moto.url },
        policy: { files: [policyFile] },
        edge: { allowedRegions: ['us-east-1'], approvalWaitSeconds: 60 },
        admin: { groups: ['airlock-admins'] },
        recorder: { batchSize: 1 },
        console: { listen: `127.0.0.1:${consolePort}`, oidc: { issuer: people.issuer, clientId: 'airlock-console' } },
        logging: { level: 'info' },
      },
      env: { ...world.vendingEnv, AIRLOCK_SESSION_KEYS: sessionKeys, AIRLOCK_RECORDER_SIGNING_KEY: recorderKey },
    });
    await until(async () => (await fetch(`${consoleUrl}/health`).catch(() => undefined))?.ok === true, 'the console to listen');

    agent = await assume('agent-7');
    await s3(agent).send(new CreateBucketCommand({ Bucket: 'console-bucket' }));
    // A leaked key in an object the agent reads: masked in the answer, and counted (never kept) in the recording.
    await s3(agent).send(new CreateBucketCommand({ Bucket: 'console-notes' }));
    const leaked = { AccessKeyId: 'AKIAIOSFODNN7EXAMPLE', SecretAccessKey: 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY' };
    await s3(agent).send(new PutObjectCommand({ Bucket: 'console-notes', Key: 'config.json', ContentType: 'application/json', Body: JSON.stringify(leaked) }));
    const read = await (await s3(agent).send(new GetObjectCommand({ Bucket: 'console-notes', Key: 'config.json' }))).Body!.transformToString();
    expect(read).not.toContain(leaked.SecretAccessKey);

    browser = await chromium.launchPersistentContext(join(scratch, 'chromium-profile'), {
      executablePath: chromiumPath,
      headless: true,
      args: chromiumArgs,
      viewport: { width: 1280, height: 900 },
    });
    page = browser.pages()[0] ?? (await browser.newPage());
  });

  afterAll(async () => {
    await browser?.close();
    await airlock?.stop();
    await Promise.all([world?.stop(), agents?.stop(), people?.stop()]);
    if (scratch) await rm(scratch, { recursive: true, force: true });
  });

  const assume = async (clientId: string) => assumeThroughAirlock(airlock.url, world.roleArn, await agents.issueToken({ clientId }), clientId);
  const s3 = (credentials: SessionCredentials) => s3ThroughAirlock(airlock.url, credentials);

  const bucketsInMoto = async (): Promise<string[]> => {
    const direct = new S3Client({ region: 'us-east-1', endpoint: world.moto.url, forcePathStyle: true, credentials: world.vendingIdentity });
    const { Buckets } = await direct.send(new ListBucketsCommand({}));
    direct.destroy();
    return (Buckets ?? []).map((bucket) => bucket.Name ?? '');
  };

  /** A screenshot for the record, and no serious or critical axe-core finding on the page as it stands. */
  async function checkPage(name: string): Promise<void> {
    await page.screenshot({ path: join(artifacts, `${name}.png`), fullPage: true });
    // Evaluated through the DevTools protocol, which the page's Content-Security-Policy does not govern.
    await page.evaluate(axeSource);
    // A string, evaluated in the page: the test's own type-check knows no DOM.
    const violations = await page.evaluate<string[]>(`axe.run(document, { runOnly: ['wcag2a', 'wcag2aa', 'best-practice'] }).then((result) =>
      result.violations
        .filter((violation) => violation.impact === 'serious' || violation.impact === 'critical')
        .map((violation) => violation.id + ': ' + violation.help + ' at ' + violation.nodes.map((node) => node.target.join(' ')).join(', ')))`);
    expect(violations, `accessibility of ${name}`).toEqual([]);
  }

  /** From the console's "Sign in" page through the IdP's form, back to the page the person was on. */
  async function signIn(account: string): Promise<void> {
    const returnTo = new URL(page.url()).hash || '#/approvals';
    await page.getByRole('link', { name: 'Sign in' }).click();
    await page.waitForURL(`${people.issuer}/**`);
    await page.getByLabel('Account').fill(account);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.waitForURL(`${consoleUrl}/${returnTo}`);
    await page.locator('.who').waitFor();
  }

  const focusedText = () => page.evaluate<string>("document.activeElement?.textContent?.trim() ?? ''");

  it('signs a manager in through the identity provider (authorization code with PKCE)', async () => {
    await page.goto(consoleUrl);
    await page.getByRole('heading', { name: 'Sign in' }).waitFor();
    await checkPage('01-sign-in');
    await signIn('maria');
    await page.getByRole('heading', { name: 'Approvals', level: 1 }).waitFor();
    // The event stream's first list has arrived: what comes later is news, announced to screen readers.
    await page.getByText('Nothing is waiting for a decision you may see.').waitFor();
    expect(await page.locator('.who').textContent()).toContain('Maria Manager (maria) · admin');

    const cookies = await browser.cookies(consoleUrl);
    const session = cookies.find((cookie) => cookie.name === 'airlock-console');
    expect(session).toMatchObject({ httpOnly: true, sameSite: 'Lax' });
    // The console's API refuses a POST without the page's CSRF token, even with the session cookie.
    const forged = await fetch(`${consoleUrl}/api/sessions/revoke`, {
      method: 'POST',
      headers: { cookie: `airlock-console=${session!.value}`, 'content-type': 'application/json' },
      body: JSON.stringify({ subject: 'agent-7' }),
    });
    expect(forged.status).toBe(403);
    expect(await forged.json()).toMatchObject({ code: 'AccessDenied' });
  });

  it('shows a held call live and releases it when the manager approves with the keyboard', async () => {
    const held = s3(agent).send(new DeleteBucketCommand({ Bucket: 'console-bucket' }));
    // No reload: the request reaches the open page through its event stream.
    const card = page.locator('li.card', { hasText: 'arn:aws:s3:::console-bucket' });
    await card.waitFor({ timeout: 30_000 });
    expect(await card.textContent()).toContain('s3:DeleteBucket requested by agent-7');
    expect(await page.getByRole('status').last().textContent()).toContain('New approval request: s3:DeleteBucket by agent-7.');
    await checkPage('02-approvals-pending');

    await card.getByLabel('Reason').focus();
    await page.keyboard.type('ticket 7: bucket retired');
    await page.keyboard.press('Tab');
    await vi.waitFor(async () => expect(await focusedText()).toBe('Approve'));
    await page.keyboard.press('Enter');

    await held; // the held call itself went through: one attempt, no retry
    expect(await bucketsInMoto()).not.toContain('console-bucket');
    await page.locator('table', { hasText: 's3:DeleteBucket' }).getByText('approved').waitFor();
    expect(await page.locator('table', { hasText: 's3:DeleteBucket' }).textContent()).toContain('Maria Manager: “ticket 7: bucket retired”');
    await checkPage('03-approvals-decided');
  });

  it('finds the session among the recordings, replays it with the approval and verifies its integrity', async () => {
    await page.getByRole('link', { name: 'Recorded sessions' }).click();
    await page.getByRole('heading', { name: 'Recorded sessions', level: 1 }).waitFor();
    await page.getByLabel('Person or workload').fill('agent-7');
    await page.getByLabel('Decision').selectOption('approval');
    // The recorder writes asynchronously: search until the approved call is in the index.
    const row = page.locator('tbody tr', { hasText: 's3:DeleteBucket' });
    await until(async () => {
      await page.getByRole('button', { name: 'Search' }).click();
      return (await row.count()) > 0;
    }, 'the recorded session in the index');
    agentSessionId = (await row.locator('a').textContent())!.trim();
    await checkPage('04-recordings');

    await row.locator('a').click();
    await page.getByRole('heading', { name: `Session ${agentSessionId}` }).waitFor();
    const call = page.locator('li.entry.call', { hasText: 's3:DeleteBucket' });
    await until(async () => (await call.count()) > 0 && (await call.textContent())!.includes('Approved by'), 'the approved call in the timeline', async () => page.reload());
    const text = (await call.textContent())!;
    expect(text).toContain('needed approval');
    expect(text).toContain('Approved by Maria Manager (maria)');
    expect(text).toContain('ticket 7: bucket retired');
    expect(text).toContain('delete-bucket-needs-a-manager');
    expect(text).toContain('Masked in the answer');
    expect(text).toMatch(/AWS answered 204/);
    const masked = (await page.locator('li.entry.call', { hasText: 's3:GetObject' }).textContent())!;
    expect(masked).toMatch(/Masked in the answer.*aws-secret-key × 1/);
    expect(await page.locator('main').textContent()).not.toContain('wJalrXUtnFEMI');

    await page.getByRole('button', { name: 'Verify integrity' }).click();
    const verdict = page.getByRole('status').filter({ hasText: 'Verified' });
    await verdict.waitFor();
    expect(await verdict.textContent()).toContain('hash chain intact; digests signed by a trusted key');
    await checkPage('05-recording-replayed-and-verified');
  });

  it('revokes the agent session from the active sessions by person; the agent is refused at once', async () => {
    await page.getByRole('link', { name: 'Active sessions' }).click();
    const person = page.getByRole('region', { name: 'agent-7' });
    await person.waitFor();
    await checkPage('06-sessions');
    await person.getByRole('button', { name: `Revoke session ${agentSessionId}` }).click();
    // The confirmation takes the focus once it is rendered, so Enter confirms.
    await vi.waitFor(async () => expect(await focusedText()).toBe('Confirm: revoke'));
    await page.keyboard.press('Enter');
    await person.getByText('revoked', { exact: true }).waitFor();
    expect(await page.getByRole('status').last().textContent()).toContain(`Revoked session ${agentSessionId}: 1 session.`);
    await checkPage('07-session-revoked');

    const refused = await s3(agent)
      .send(new ListBucketsCommand({}))
      .then(
        () => undefined,
        (error: unknown) => error as { name: string },
      );
    expect(refused?.name).toBe('ExpiredToken');
  });

  it('shows the policy in force', async () => {
    await page.getByRole('link', { name: 'Policy' }).click();
    await page.getByRole('heading', { name: 'Policy', level: 1 }).waitFor();
    await page.getByRole('heading', { name: 'console.cedar', level: 2 }).waitFor();
    const text = await page.locator('main').textContent();
    expect(text).toContain('console.cedar');
    expect(text).toContain('@approval("managers")');
    expect(text).toMatch(/1 file, 3 policies, digest sha256:[0-9a-f]{16}/);
    await checkPage('08-policy');
  });

  it('signs out, and keeps no token or session cookie in the logs', async () => {
    const session = (await browser.cookies(consoleUrl)).find((cookie) => cookie.name === 'airlock-console')!.value;
    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.getByRole('heading', { name: 'Sign in' }).waitFor();
    const after = await fetch(`${consoleUrl}/api/me`, { headers: { cookie: `airlock-console=${session}` } });
    expect(await after.json()).toMatchObject({ code: 'MissingAuthentication' });
    expect(airlock.output()).not.toContain(session);
    expect(airlock.output()).not.toMatch(/eyJ[\w-]+\.eyJ[\w-]+\./);
  });

  it('holds someone outside admin.groups to the same rules as the admin API: no recordings, only their own sessions', async () => {
    // Another person, as if on another browser: without the IdP's single sign-on session of the manager.
    await browser.clearCookies();
    await signIn('nina');
    expect(await page.locator('.who').textContent()).toContain('Nina Engineer (nina)');
    expect(await page.locator('.who').textContent()).not.toContain('admin');
    await page.getByRole('link', { name: 'Recorded sessions' }).click();
    const refusal = page.getByRole('alert').filter({ hasText: 'Only members of an admin group' });
    await refusal.waitFor();
    await page.getByRole('link', { name: 'Active sessions' }).click();
    await page.getByText('No live sessions.').waitFor();
    await checkPage('09-not-an-admin');
  });
});

/** Polls `check` (bounded, ~30 s), running `between` after each miss. */
async function until(check: () => Promise<boolean>, what: string, between?: () => Promise<unknown>): Promise<void> {
  for (let attempt = 0; attempt < 60; attempt++) {
    if (await check()) return;
    await new Promise((resolve) => setTimeout(resolve, 500));
    await between?.();
  }
  throw new Error(`timed out waiting for ${what}`);
}
