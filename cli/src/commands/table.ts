import { serviceNamesInOrder } from '@airlock/config/service-names';
import { defaultScope } from '../people/oidc.js';
import type { Command } from './command.js';

/*
 * What `airlock --help` and `airlock <command> --help` print lives here; the code of a command is imported only when
 * it runs. People run these interactively and AWS clients run `airlock credentials` as their credential_process before
 * every call: neither should pay for loading the daemon (gRPC, Cedar, the AWS SDK, OpenTelemetry) it does not use.
 */

const servable = `edge, ${serviceNamesInOrder.join(', ')}, slack-bot, console`;

const recordedUsage = `list [--since T] [--until T] [--subject S] [--role R] [--operation A] [--decision D] [--limit N] [--config FILE] [--json]
    recorded sessions with events between --since (default 24h) and --until (default now), newest first; T is an ISO
    time or an age (90m, 24h, 7d); --subject matches subject or name, --role an ARN or role name, --operation an IAM
    action (s3:PutObject, s3:*), --decision allow|deny|approval|none (with --operation: of that operation's calls)
show <session-id> | replay <session-id> | verify <session-id> [--json]
    a session's events (JSON lines), its timeline, or a check of its hash chain and signed digests (exit 1 on any
    gap, truncation, reordering or tampering). Asks services.recorder over gRPC when configured, else reads the blob
    store directly`;

/** Every `airlock` command, in the order `airlock --help` lists them. */
export const commands: readonly Command[] = [
  {
    name: 'dev',
    usage: 'airlock dev [--config FILE]',
    summary: 'run every service in this process (embedded mode)',
    run: async (argv) => (await import('./daemon.js')).dev(argv),
  },
  {
    name: 'serve',
    usage: `airlock serve <service> [--config FILE]\n    services: ${servable}`,
    summary: `run one service (distributed mode): ${servable}`,
    run: async (argv) => (await import('./daemon.js')).serve(argv),
  },
  {
    name: 'probe',
    usage: 'airlock probe (--http URL | --grpc HOST:PORT [--service NAME]) [--timeout MS]',
    summary: 'health probe for containers: exit 0 when the edge (HTTP 200) or a service (gRPC SERVING) is healthy',
    run: async (argv) => (await import('./probe.js')).probe(argv),
  },
  {
    name: 'login',
    usage: `airlock login --issuer URL --client-id ID [--audience A] [--scope S] [--endpoint URL] [--region R]
    sign in with the OAuth device authorization grant; tokens are kept in the config directory (0600).
    --scope defaults to "${defaultScope}"; issuer and client id default to the last login's`,
    summary: 'sign in at your identity provider (device authorization grant)',
    run: async (argv) => (await import('./login.js')).login(argv),
  },
  {
    name: 'logout',
    usage: 'airlock logout\n    forget the stored tokens and cached credentials',
    summary: 'forget the stored login',
    run: async (argv) => (await import('./login.js')).logout(argv),
  },
  {
    name: 'whoami',
    usage: 'airlock whoami [--endpoint URL] [--json]\n    who Airlock sees behind your token (endpoint: --endpoint, $AIRLOCK_ENDPOINT or the one saved at login)',
    summary: 'show who Airlock sees',
    run: async (argv) => (await import('./whoami.js')).whoami(argv),
  },
  {
    name: 'credentials',
    usage: `airlock credentials --role ARN [--endpoint URL] [--duration SECONDS] [--fresh]
    prints Airlock session credentials as credential_process JSON; cached (0600) until 5 minutes before they expire;
    --fresh leaves the cache aside (after the session was revoked, say)`,
    summary: 'credentials for credential_process in ~/.aws/config',
    run: async (argv) => (await import('./credentials.js')).credentials(argv),
  },
  {
    name: 'env',
    usage: `airlock env --role ARN [--endpoint URL] [--region R] [--credentials [--duration SECONDS]]
    prints shell export lines that point AWS clients at Airlock: eval "$(airlock env --role ARN)".
    Default: AWS_WEB_IDENTITY_TOKEN_FILE (a 0600 copy of your token) and AWS_ROLE_ARN;
    --credentials: the Airlock session credentials themselves`,
    summary: 'print the environment that points AWS clients at Airlock',
    run: async (argv) => (await import('./env.js')).env(argv),
  },
  {
    name: 'exec',
    usage: `airlock exec --role ARN [--endpoint URL] [--region R] [--credentials] -- <command> [args…]
    runs the command with the environment of airlock env (the token file kept fresh while it runs);
    exits with the command's exit code, forwards signals to it`,
    summary: 'run a command with the environment that points it at Airlock',
    run: async (argv) => (await import('./exec.js')).exec(argv),
  },
  {
    name: 'sessions',
    usage: `${recordedUsage
      .split('\n')
      .map((line) => (line.startsWith(' ') ? line : `airlock sessions ${line}`))
      .join('\n')}
airlock sessions active [--subject S] [--issuer I] [--endpoint URL] [--json]
airlock sessions revoke <session-id> [--endpoint URL] [--json]
airlock sessions revoke --subject S [--issuer I] [--endpoint URL] [--json]
    live sessions through the edge's admin API: list them and revoke them (members of admin.groups only; everyone
    their own); revocation reaches every edge`,
    summary: 'recorded sessions (list, show, replay, verify); live ones (active, revoke)',
    run: async (argv) => (await import('./sessions.js')).sessions(argv),
  },
  {
    name: 'recordings',
    usage: `airlock recordings list|show|replay|verify …
    the older name of airlock sessions list|show|replay|verify (recorded sessions), same options`,
    summary: 'recorded sessions (alias of airlock sessions list/show/replay/verify)',
    run: async (argv) => (await import('./recordings.js')).runRecorded('recordings', argv),
  },
  {
    name: 'audit',
    usage: `airlock audit export --since T [--until T] --format csv|jsonl [--output FILE] [--config FILE]
    every recorded event in the time range, for compliance reporting: CSV (columns in docs/recordings.md) or JSON
    lines (the recorded events). Streams page by page in constant memory; progress on stderr. T is an ISO time or
    an age (24h, 7d)`,
    summary: 'export recorded events for compliance reporting',
    run: async (argv) => (await import('./audit.js')).audit(argv),
  },
  {
    name: 'approvals',
    usage: `airlock approvals list [--status pending|approved|denied|expired] [--endpoint URL] [--json]
airlock approvals show <approval-id> [--endpoint URL] [--json]
airlock approvals approve <approval-id> [--reason R] [--endpoint URL] [--json]
airlock approvals deny <approval-id> --reason R [--endpoint URL] [--json]
    see the calls waiting for approval and decide them, as the person signed in with airlock login; the requester
    never approves their own request, and only members of the approver groups may vote`,
    summary: 'list, show, approve and deny held calls',
    run: async (argv) => (await import('./approvals.js')).approvals(argv),
  },
  {
    name: 'policy',
    usage: `airlock policy validate <file|dir>...
airlock policy test <fixtures.yaml> [--policies <file|dir>]...
airlock policy explain --principal [ISSUER#]SUBJECT [--groups G1,G2] --action SERVICE:OPERATION [--resource ARN]... [--policies <file|dir>]... [--json]
airlock policy schema
    check Cedar policies without running Airlock, in process:
    validate  parses every *.cedar (directories: the files directly inside), checks Airlock's annotations and
              validates the set against Airlock's schema; exit 1 with Cedar's messages (file, line, column) when one is bad
    test      decides each case of a fixtures file (a list, or {policies: [...], cases: [...]}, policies relative to it)
              and compares with its expect: allow|deny|approval (and approvers, quorum, reason, policyIds, sessionPolicy);
              exit 1 on any failure
    explain   the decision for one request: the deciding policies and their files, the reason, the approval requirement;
              also --issuer I, --region R, --role ARN, --context K=V..., --param K=V...
    schema    prints the Cedar schema policies are validated against (every catalogue action, its service and
              access level groups), for editors and tools
    --policies defaults to the fixtures file's policies, else ./policies`,
    summary: 'validate, test and explain Cedar policies',
    run: async (argv) => (await import('./policy.js')).policy(argv),
  },
];
