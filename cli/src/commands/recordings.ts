import { loadConfig, type AirlockConfig } from '@airlock/config';
import { RecorderServiceService, SessionEvent, type RecordedSession } from '@airlock/contracts';
import { createQueryHandlers, parseSigningKey } from '@airlock/recorder';
import { createLogger } from '@airlock/logging';
import { bindInProcess, createGrpcClient, mutualTlsChannelCredentials, watchTlsFiles, type ServiceClient } from '@airlock/transport';
import { openBlob } from '../drivers.js';
import { UsageError } from '../people/errors.js';
import { formatTime, renderTable } from '../people/table.js';
import { helpOption, parseOptions } from './args.js';
import { recordedActions } from './sessions.js';

/**
 * Recorded sessions: the evidence the recorder wrote. `airlock sessions list|show|replay|verify` runs these;
 * `airlock recordings …` is the older name, kept as an alias.
 *
 * Where the answers come from: when `services.recorder` is configured (distributed mode) the recorder is asked over
 * gRPC; otherwise (embedded mode) the recorder's query handlers run in this process over the configured blob store
 * (dataDir/recordings, or the S3 bucket), so no daemon needs to be running. Digest signatures are checked against
 * the public key derived from recorder.signingKeyEnv when it is set in this environment.
 */
export type Recorder = ServiceClient<typeof RecorderServiceService>;

export async function connectRecorder(config: AirlockConfig): Promise<{ recorder: Recorder; close(): Promise<void> }> {
  const endpoint = config.services.recorder;
  if (endpoint) {
    // With mTLS between services this command is one more client: it presents the process certificate it is given.
    const tls = config.mtls ? watchTlsFiles(config.mtls) : undefined;
    const grpc = createGrpcClient(RecorderServiceService, {
      address: endpoint.address ?? endpoint.listen,
      serviceName: 'recorder',
      defaultTimeoutMs: 60_000,
      ...(tls ? { credentials: mutualTlsChannelCredentials(tls) } : {}),
    });
    return {
      recorder: grpc.client,
      close: async () => {
        grpc.close();
        tls?.close();
      },
    };
  }
  const blob = await openBlob(config);
  const keyValue = process.env[config.recorder.signingKeyEnv];
  const key = keyValue ? parseSigningKey(keyValue, config.recorder.signingKeyEnv) : undefined;
  const handlers = createQueryHandlers({
    blob,
    prefix: config.recorder.prefix,
    indexPrefix: config.recorder.indexPrefix,
    logger: createLogger({ service: 'cli', level: 'silent' }),
    ...(key ? { trustedKeys: { [key.keyId]: key.publicKey } } : {}),
  });
  return { recorder: bindInProcess(RecorderServiceService, handlers), close: () => blob.close() };
}

const units: Record<string, number> = { s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/** `--since`/`--until`: an ISO 8601 time (`2026-11-26`, `2026-11-26T06:00Z`), or an age such as `90m`, `24h`, `7d`. */
export function parseTime(value: string | undefined, flag: string, now: number): number | undefined {
  if (value === undefined) return undefined;
  const age = /^(\d+)([smhd])$/.exec(value);
  if (age) return now - Number(age[1]) * units[age[2]!]!;
  const at = /^\d{4}-\d{2}-\d{2}/.test(value) ? Date.parse(value) : Number.NaN;
  if (Number.isNaN(at)) throw new UsageError(`${flag} takes an ISO 8601 time (2026-11-26T06:00Z) or an age (90m, 24h, 7d), not ${JSON.stringify(value)}`);
  return at;
}

const recordedOptions = {
  config: { type: 'string', short: 'c' },
  json: { type: 'boolean' },
  limit: { type: 'string' },
  since: { type: 'string' },
  until: { type: 'string' },
  subject: { type: 'string' },
  role: { type: 'string' },
  operation: { type: 'string' },
  decision: { type: 'string' },
  ...helpOption,
} as const;

/** Runs `<command> list|show|replay|verify …` over recorded sessions; `command` names the caller in messages. */
export async function runRecorded(command: string, argv: string[]): Promise<number> {
  const { values, positionals } = parseOptions(argv, recordedOptions, true);
  const [action, id, ...extra] = positionals;
  if (!(recordedActions as readonly string[]).includes(action ?? '')) throw new UsageError(`say airlock ${command} ${recordedActions.join(', ')}`);
  if (extra.length > 0 || (action === 'list') !== (id === undefined)) throw new UsageError(action === 'list' ? `airlock ${command} list takes no argument` : `airlock ${command} ${action} takes a session id`);
  if (action !== 'list') {
    const listOnly = (['since', 'until', 'subject', 'role', 'operation', 'decision', 'limit'] as const).find((flag) => values[flag] !== undefined);
    if (listOnly) throw new UsageError(`--${listOnly} goes with airlock ${command} list`);
  }
  const now = Date.now();
  const sinceMs = parseTime(values.since, '--since', now);
  const untilMs = parseTime(values.until, '--until', now);
  const limit = values.limit === undefined ? 0 : Number(values.limit);
  if (!Number.isInteger(limit) || limit < 0) throw new UsageError('--limit takes a whole number');
  const { recorder, close } = await connectRecorder(await loadConfig(values.config));
  try {
    if (action === 'list') {
      const { sessions } = await recorder.listSessions({
        limit,
        sinceMs: sinceMs ?? 0,
        untilMs: untilMs ?? 0,
        subject: values.subject ?? '',
        role: values.role ?? '',
        operation: values.operation ?? '',
        decision: values.decision ?? '',
      });
      process.stdout.write(values.json ? `${JSON.stringify({ sessions }, null, 2)}\n` : renderRecorded(sessions));
      return 0;
    }
    if (action === 'verify') {
      const report = await recorder.verifySession({ sessionId: id! });
      if (values.json) console.log(JSON.stringify(report, null, 2));
      else {
        console.log(`${report.ok ? 'OK' : 'FAILED'}: session ${report.sessionId}, ${report.objects} objects, ${report.events} events, digests ${report.signed ? 'signed' : 'NOT all signed'}`);
        for (const p of report.problems) console.log(`  ${p.kind}\t${p.key}${p.line ? `:${p.line}` : ''}\t${p.message}`);
      }
      return report.ok ? 0 : 1;
    }
    const { events } = await recorder.getSession({ sessionId: id! });
    for (const event of events) console.log(action === 'show' ? JSON.stringify(SessionEvent.toJSON(event)) : timelineLine(event));
    return 0;
  } finally {
    await close();
  }
}

export function renderRecorded(sessions: RecordedSession[]): string {
  if (sessions.length === 0) return 'No recorded sessions in that time range.\n';
  return renderTable(
    ['SESSION', 'SUBJECT', 'ROLE', 'FIRST', 'LAST', 'CALLS', 'EVENTS', 'DECISIONS', 'OPERATIONS'],
    sessions.map((session) => [
      session.sessionId,
      session.name || session.subject || '-',
      session.roleArn.slice(session.roleArn.lastIndexOf('/') + 1) || '-',
      formatTime(session.firstAtMs),
      formatTime(session.lastAtMs),
      String(session.calls),
      String(session.events),
      session.decisions.join(',') || '-',
      session.operations.length > 3 ? `${session.operations.slice(0, 3).join(',')},+${session.operations.length - 3}` : session.operations.join(',') || '-',
    ]),
  );
}

function timelineLine(event: SessionEvent): string {
  const at = new Date(event.atMs).toISOString();
  const body = event.body;
  if (body?.$case === 'started') return `${at}  started  ${body.value.principal?.subject ?? '?'} as ${body.value.roleArn}`;
  if (body?.$case === 'ended') return `${at}  ended    ${body.value.reason}`;
  if (body?.$case === 'requested') return `${at}  request  ${body.value.call?.action ?? '?'} (${body.value.requestId}, before forwarding)`;
  if (body?.$case === 'call') {
    const v = body.value;
    return `${at}  call     ${v.call?.action ?? '?'} ${(v.call?.resources ?? []).join(',')} -> ${v.upstreamStatus || v.errorCode || '-'} (${v.durationMs} ms)`;
  }
  return `${at}  (unknown event)`;
}
