import { z } from 'zod';

const hostPort = z
  .string()
  .regex(/^(\[[0-9a-fA-F:]+\]|[A-Za-z0-9.-]+):\d{1,5}$/, 'expected "host:port", e.g. "127.0.0.1:4566"');
const url = z.url({ protocol: /^https?$/ });

const claimName = z.string().min(1);

const issuer = z.strictObject({
  issuer: url,
  audience: z.union([z.string().min(1), z.array(z.string().min(1)).min(1)]),
  jwksUri: url.optional(),
  algorithms: z.array(z.string()).optional(),
  /** Who this issuer speaks for; only shown in records and listings. */
  kind: z.enum(['people', 'workloads']).default('workloads'),
  /**
   * Which claims carry what. A name is looked up as a whole first (URL-named claims such as
   * "https://example.com/groups", or "cognito:groups"), then as a dotted path ("realm_access.roles").
   */
  claims: z
    .strictObject({
      subject: claimName.default('sub'),
      name: claimName.default('name'),
      email: claimName.default('email'),
      groups: claimName.default('groups'),
    })
    .prefault({}),
  /** Role ARNs this issuer's tokens may use; `*` matches any run of characters. */
  roles: z.array(z.string().min(1)).min(1).default(['*']),
  /** Longest Airlock session a token from this issuer can buy (also capped by edge.maxSessionSeconds). */
  maxSessionSeconds: z.number().int().min(900).max(43_200).optional(),
});

const serviceEndpoint = z.strictObject({
  /** Where the service listens when run alone. */
  listen: hostPort,
  /** Where other services reach it. @default listen */
  address: hostPort.optional(),
});

/** The Airlock identity a Slack user votes as. */
const slackIdentity = z.strictObject({
  subject: z.string().min(1),
  issuer: z.string().min(1),
  groups: z.array(z.string().min(1)).default([]),
  /** Shown in messages; the Slack profile's name when omitted. */
  name: z.string().min(1).optional(),
});
const envName = z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'expected an environment variable name');

/** The Slack approvals bot; absent: no bot runs. Secrets come only from the named environment variables. */
const slack = z.strictObject({
  botTokenEnv: envName.default('SLACK_BOT_TOKEN'),
  signingSecretEnv: envName.default('SLACK_SIGNING_SECRET'),
  /** Base URL of the Web API, for a stand-in. @default https://slack.com/api/ */
  apiUrl: url.optional(),
  /** Channels (ids, or names the bot has joined) every approval request is posted to. */
  channels: z.array(z.string().min(1)).min(1),
  /** Where the interactivity endpoint (POST /slack/interactions) listens. */
  listen: hostPort.default('127.0.0.1:3000'),
  /** Slack user id → identity; checked first. */
  users: z.record(z.string().regex(/^[UW][A-Z0-9]+$/, 'expected a Slack user id, e.g. U0123ABCD'), slackIdentity).default({}),
  /** Slack profile e-mail (users.info, scope users:read.email) → identity; used for users not listed in `users`. */
  people: z.record(z.string().regex(/^[^@\s]+@[^@\s]+$/, 'expected an e-mail address'), slackIdentity).default({}),
});

const serviceNames = ['policy', 'approval', 'credential-vending', 'masking', 'recorder'] as const;

export const configSchema = z.strictObject({
  dataDir: z.string().default('.airlock'),
  edge: z
    .strictObject({
      listen: hostPort.default('127.0.0.1:4566'),
      /** Host names (host or host:port) clients use to reach this edge; others are refused. @default the listen address, localhost and 127.0.0.1 on its port */
      hosts: z.array(z.string().min(1)).default([]),
      /** Names this edge in events; unique per process. @default hostname-pid */
      id: z.string().optional(),
      /** Largest clock difference accepted in a SigV4 signature. */
      clockSkewSeconds: z.number().int().min(60).max(3600).default(900),
      /** Longest Airlock session a token can buy. */
      maxSessionSeconds: z.number().int().min(900).max(43_200).default(3600),
      /** Regions the edge may forward to. */
      allowedRegions: z.array(z.string().regex(/^[a-z]{2}(-[a-z]+)+-\d+$/)).default([]),
      /** How long a request waits for the policy, approval and credential services. */
      dependencyTimeoutMs: z.number().int().min(100).max(60_000).default(5_000),
      /**
       * How long a call that needs approval is held open waiting for the decision before it is answered ApprovalPending.
       * Kept below SDK read timeouts (the AWS CLI's is 60 s) so the agent gets Airlock's answer, not a timeout. 0: answer at once.
       */
      approvalWaitSeconds: z.number().int().min(0).max(300).default(25),
      /**
       * strict: a call is forwarded only after its CallRequested session event is acknowledged by the bus; while the bus
       * is down calls are refused with ServiceUnavailable (retryable). best-effort: events are published after the call
       * and a bus outage loses them but never blocks a call.
       */
      recording: z.enum(['strict', 'best-effort']).default('best-effort'),
    })
    .prefault({}),
  identity: z
    .strictObject({
      issuers: z.array(issuer).default([]),
      /** Environment variable holding the session signing keys ("kid:base64,…"). */
      sessionKeysEnv: z.string().default('AIRLOCK_SESSION_KEYS'),
    })
    .prefault({}),
  upstream: z
    .strictObject({
      /** Send every AWS call here instead of the real AWS endpoint (emulators, tests). */
      endpoint: url.optional(),
      partition: z.enum(['aws', 'aws-cn', 'aws-us-gov']).default('aws'),
      /** Use FIPS endpoints for every service (a deployment setting, never a client's choice). */
      fips: z.boolean().default(false),
      /** Use dual-stack (IPv6) endpoints for every service. */
      dualStack: z.boolean().default(false),
    })
    .prefault({}),
  policy: z.strictObject({ files: z.array(z.string()).default([]) }).prefault({}),
  credentials: z
    .strictObject({
      /** Region of the STS endpoint credential-vending calls. */
      region: z.string().default('us-east-1'),
      /** Requested lifetime of vended credentials; STS's minimum is 900. */
      durationSeconds: z.number().int().min(900).max(43_200).default(900),
      /** The credential cache shared by credential-vending processes through the state store (Redis). */
      cache: z
        .strictObject({
          /**
           * Environment variable holding the cache's AES-256-GCM keys as `kid:base64key[,kid:base64key]`: the first
           * encrypts, all decrypt (rotation by key id). Unset or empty: no shared cache, only each process's own.
           */
          keyEnv: z
            .string()
            .regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'expected an environment variable name')
            .default('AIRLOCK_CREDENTIALS_CACHE_KEY'),
        })
        .prefault({}),
    })
    .prefault({}),
  recorder: z
    .strictObject({
      /** Key prefix of recordings in the blob store. */
      prefix: z.string().default('sessions/'),
      batchSize: z.number().int().min(1).max(1000).default(100),
      /**
       * Environment variable holding the Ed25519 key that signs each recording's digest, as `kid:base64` (PKCS#8 DER
       * or a 32-byte seed). Unset or empty: digests are written unsigned and `airlock recordings verify` says so.
       */
      signingKeyEnv: z
        .string()
        .regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'expected an environment variable name')
        .default('AIRLOCK_RECORDER_SIGNING_KEY'),
    })
    .prefault({}),
  drivers: z
    .strictObject({
      bus: z
        .discriminatedUnion('kind', [
          z.strictObject({ kind: z.literal('embedded') }),
          z.strictObject({ kind: z.literal('nats'), servers: z.array(z.string()).min(1) }),
        ])
        .default({ kind: 'embedded' }),
      state: z
        .discriminatedUnion('kind', [
          z.strictObject({ kind: z.literal('embedded') }),
          z.strictObject({ kind: z.literal('redis'), url: z.string().regex(/^rediss?:\/\//, 'expected redis://…') }),
        ])
        .default({ kind: 'embedded' }),
      blob: z
        .discriminatedUnion('kind', [
          z.strictObject({ kind: z.literal('file') }),
          z.strictObject({
            kind: z.literal('s3'),
            bucket: z.string().min(3),
            region: z.string().default('us-east-1'),
            endpoint: url.optional(),
            forcePathStyle: z.boolean().default(false),
          }),
        ])
        .default({ kind: 'file' }),
    })
    .prefault({}),
  services: z
    .strictObject(Object.fromEntries(serviceNames.map((name) => [name, serviceEndpoint.optional()])) as {
      [K in (typeof serviceNames)[number]]: z.ZodOptional<typeof serviceEndpoint>;
    })
    .prefault({}),
  slack: slack.optional(),
  admin: z
    .strictObject({
      /** Groups whose members may list and revoke sessions through the edge's admin API. */
      groups: z.array(z.string().min(1)).default([]),
    })
    .prefault({}),
  logging: z
    .strictObject({ level: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info') })
    .prefault({}),
});

export type AirlockConfig = Readonly<z.infer<typeof configSchema>>;
export type ServiceName = (typeof serviceNames)[number];
export const serviceNamesInOrder: readonly ServiceName[] = serviceNames;
