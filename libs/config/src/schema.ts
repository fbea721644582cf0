import { z } from 'zod';
import { serviceNamesInOrder as serviceNames } from './service-names.js';

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
  /** Where the process serves Prometheus metrics (GET /metrics) when run alone; unset: not served. */
  metricsListen: hostPort.optional(),
});

/** A token bucket: a sustained rate and the calls allowed at once after a quiet time. */
const rateLimit = z
  .strictObject({
    ratePerSecond: z.number().positive().max(1_000_000),
    /** @default ratePerSecond (at least 1) */
    burst: z.number().int().min(1).max(1_000_000).optional(),
  })
  .transform((limit) => ({ ratePerSecond: limit.ratePerSecond, burst: limit.burst ?? Math.max(1, Math.ceil(limit.ratePerSecond)) }));

const pemFile = z.string().min(1);

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

/** The web console (services/console); absent: none runs. See docs/console.md. */
const consoleSettings = z.strictObject({
  listen: hostPort.default('127.0.0.1:4580'),
  /** The address people open; the IdP redirects back to <publicUrl>/auth/callback. @default http://<listen> */
  publicUrl: url.optional(),
  /** Base URL of an edge whose admin API the console calls as the signed-in person. @default this process's edge (airlock dev); required for airlock serve console */
  edgeUrl: url.optional(),
  /** How people sign in: authorization code with PKCE at this OpenID Provider. */
  oidc: z.strictObject({
    /** Must be one of identity.issuers, so that the edge accepts the token the console presents. */
    issuer: url,
    clientId: z.string().min(1),
    /** Environment variable holding the client secret; unset: a public client (PKCE alone). */
    clientSecretEnv: envName.optional(),
    scope: z.string().default('openid profile email'),
    /** Ask for a JWT access token for this audience (RFC 8707 resource) and present it instead of the ID token. */
    audience: z.string().min(1).optional(),
  }),
  /** Longest a sign-in lasts, however often its tokens are refreshed. */
  sessionSeconds: z.number().int().min(300).max(86_400).default(28_800),
});

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
      /** Serve HTTPS with this PEM certificate (chain) and key; the files are reloaded when they change. Absent: plain HTTP. */
      tls: z.strictObject({ certFile: pemFile, keyFile: pemFile }).optional(),
      /**
       * The operations listener: GET /_airlock/health, /_airlock/ready with the state and failing dependencies, and
       * /_airlock/metrics, for kubelets, Prometheus and operators. Plain HTTP without a Host check, so loopback by
       * default; a deployment binds it where its probes and scrapers reach it (the Helm chart: 0.0.0.0:4567, outside
       * the edge's Service). The public port keeps /_airlock/health and a bare /_airlock/ready for load balancers.
       */
      opsListen: hostPort.default('127.0.0.1:4567'),
      /** Serve Prometheus metrics at /_airlock/metrics on the operations listener (opsListen). */
      metrics: z.boolean().default(true),
      /** Decisions reused for identical requests of the same session under the same policy version (services/edge-proxy/src/decision-cache.ts). */
      decisionCache: z
        .strictObject({
          /** How long a decision is reused; also how long a policy reload may take to reach this edge's cache. 0: no cache. */
          ttlSeconds: z.number().int().min(0).max(60).default(2),
          /** Decisions kept at most; the oldest go first. */
          maxEntries: z.number().int().min(1).max(1_000_000).default(10_000),
        })
        .prefault({}),
      /** Protection: refused calls get the protocol's throttling error (SlowDown, RequestLimitExceeded, Throttling), which SDKs retry. */
      limits: z
        .strictObject({
          /** Calls one edge process serves at once (held approvals and streaming uploads included); 0: no limit. */
          maxConcurrentCalls: z.number().int().min(0).max(1_000_000).default(1000),
          /** Per principal (issuer and subject), per edge process unless `shared`. Absent: no limit. */
          principal: rateLimit.optional(),
          /** Per role ARN, whoever uses it. Absent: no limit. */
          role: rateLimit.optional(),
          /** Also count rates across all edges in the state store (Redis): one-second windows of ratePerSecond calls. */
          shared: z.boolean().default(false),
        })
        .prefault({}),
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
  policy: z
    .strictObject({
      files: z.array(z.string()).default([]),
      /** Shadow mode: a candidate policy set decides every call beside the live one and reports where it differs. Absent: none. */
      shadow: z
        .strictObject({
          files: z.array(z.string()).min(1),
          /** How often the running counts (compared, differed, failed) are logged while calls are compared. */
          reportSeconds: z.number().int().min(1).max(86_400).default(60),
        })
        .optional(),
    })
    .prefault({}),
  masking: z
    .strictObject({
      /**
       * strict: when masking fails (the masking service down or failing, an answer that is not what its content type
       * says) the answer is withheld and the client gets ServiceUnavailable (retryable). open: an answer still held whole
       * is sent unmasked (logged); a longer one is cut off.
       */
      failure: z.enum(['strict', 'open']).default('strict'),
      /**
       * Masked answers up to this many bytes are held whole before they are sent, so their Content-Length and checksums
       * (x-amz-crc32, x-amz-checksum-*, Content-MD5) are recomputed and a failure is still a clean error; longer ones stream.
       */
      holdBytes: z.number().int().min(0).max(64 * 1024 * 1024).default(1024 * 1024),
    })
    .prefault({}),
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
      /** Key prefix of the hourly query index (sessions list, audit export); outside `prefix`. */
      indexPrefix: z.string().default('index/'),
      batchSize: z.number().int().min(1).max(1000).default(100),
      /**
       * How long the bus waits for the recorder's ack before redelivering an event. The recorder also pauses this long
       * after a bus failure and, in distributed mode, after starting, so unacked events come back before newer ones.
       */
      ackWaitMs: z.number().int().min(1_000).max(600_000).default(10_000),
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
  console: consoleSettings.optional(),
  admin: z
    .strictObject({
      /** Groups whose members may list and revoke sessions through the edge's admin API. */
      groups: z.array(z.string().min(1)).default([]),
    })
    .prefault({}),
  lifecycle: z
    .strictObject({
      /**
       * On SIGTERM a process stops accepting and lets in-flight calls finish for this long; calls held for approval
       * still waiting then get a retryable ServiceUnavailable, and whatever is left is cut. Keep it below
       * Kubernetes' terminationGracePeriodSeconds.
       */
      drainSeconds: z.number().int().min(0).max(600).default(30),
    })
    .prefault({}),
  /**
   * mTLS between services (distributed mode): every gRPC server asks for a client certificate signed by `caFile` and
   * refuses connections without one; every client checks the server's certificate against it and the address's host
   * name. The files are reloaded when they change (new connections use the new certificates). Absent: plaintext gRPC.
   */
  mtls: z.strictObject({ caFile: pemFile, certFile: pemFile, keyFile: pemFile }).optional(),
  tracing: z
    .strictObject({
      /** OTLP/HTTP endpoint traces are exported to (e.g. http://collector:4318/v1/traces); unset: no span is recorded, log lines still carry trace ids. */
      otlpEndpoint: url.optional(),
      /** Share of traces sampled at the edge; services follow the edge's decision. */
      sampleRatio: z.number().min(0).max(1).default(1),
    })
    .prefault({}),
  logging: z
    .strictObject({ level: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info') })
    .prefault({}),
});

export type AirlockConfig = Readonly<z.infer<typeof configSchema>>;
