import { loadConfig, type AirlockConfig } from '@airlock/config';
import { RecorderServiceService, SessionEvent } from '@airlock/contracts';
import { createQueryHandlers, parseSigningKey } from '@airlock/recorder';
import { createLogger } from '@airlock/logging';
import { bindInProcess, createGrpcClient, type ServiceClient } from '@airlock/transport';
import { openBlob } from '../drivers.js';
import { UsageError } from '../people/errors.js';
import { helpOption, parseOptions } from './args.js';
import type { Command } from './command.js';

/**
 * Recorded sessions (the evidence the recorder wrote), as opposed to `airlock sessions`, which manages live sessions
 * (list/revoke through the edge's admin API). Hence the separate name `airlock recordings`.
 *
 * Where the answers come from: when `services.recorder` is configured (distributed mode) the recorder is asked over
 * gRPC; otherwise (embedded mode) the recorder's query handlers run in this process over the configured blob store
 * (dataDir/recordings, or the S3 bucket), so no daemon needs to be running. Digest signatures are checked against
 * the public key derived from recorder.signingKeyEnv when it is set in this environment.
 */
type Recorder = ServiceClient<typeof RecorderServiceService>;

async function connect(config: AirlockConfig): Promise<{ recorder: Recorder; close(): Promise<void> }> {
  const endpoint = config.services.recorder;
  if (endpoint) {
    const grpc = createGrpcClient(RecorderServiceService, { address: endpoint.address ?? endpoint.listen, serviceName: 'recorder', defaultTimeoutMs: 60_000 });
    return { recorder: grpc.client, close: async () => grpc.close() };
  }
  const blob = await openBlob(config);
  const keyValue = process.env[config.recorder.signingKeyEnv];
  const key = keyValue ? parseSigningKey(keyValue, config.recorder.signingKeyEnv) : undefined;
  const handlers = createQueryHandlers({
    blob,
    prefix: config.recorder.prefix,
    logger: createLogger({ service: 'cli', level: 'silent' }),
    ...(key ? { trustedKeys: { [key.keyId]: key.publicKey } } : {}),
  });
  return { recorder: bindInProcess(RecorderServiceService, handlers), close: () => blob.close() };
}

const options = { config: { type: 'string', short: 'c' }, json: { type: 'boolean' }, limit: { type: 'string' }, ...helpOption } as const;

export const recordings: Command = {
  name: 'recordings',
  usage: `airlock recordings list [--limit N] [--config FILE] [--json]
airlock recordings show <session-id> [--config FILE]
airlock recordings replay <session-id> [--config FILE]
airlock recordings verify <session-id> [--config FILE] [--json]
    recorded sessions: list them, print one's events (JSON lines), replay its timeline, or verify its hash chain and
    signed digests (exit 1 on any gap, reordering or tampering). Asks services.recorder over gRPC when configured,
    else reads the blob store directly. (Live sessions: airlock sessions.)`,
  summary: 'list, show, replay and verify recorded sessions',
  async run(argv) {
    const { values, positionals } = parseOptions(argv, options, true);
    const [action, id, ...extra] = positionals;
    if (!['list', 'show', 'replay', 'verify'].includes(action ?? '')) throw new UsageError('say airlock recordings list, show, replay or verify');
    if (extra.length > 0 || (action === 'list') !== (id === undefined)) throw new UsageError(action === 'list' ? 'airlock recordings list takes no argument' : `airlock recordings ${action} takes a session id`);
    const { recorder, close } = await connect(await loadConfig(values.config));
    try {
      if (action === 'list') {
        const { sessions } = await recorder.listSessions({ limit: values.limit ? Number(values.limit) : 0 });
        if (values.json) console.log(JSON.stringify({ sessions }, null, 2));
        else if (sessions.length === 0) console.log('No recordings.');
        else for (const session of sessions) console.log(`${session.sessionId}\t${session.objects} objects\t${session.events} events`);
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
  },
};

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
