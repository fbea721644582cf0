import { adminApi, type SessionSummary } from '../people/admin-api.js';
import { configDir } from '../people/config-dir.js';
import { currentToken } from '../people/current-token.js';
import { resolveEndpoint } from '../people/endpoint.js';
import { UsageError } from '../people/errors.js';
import { formatTime, renderTable } from '../people/table.js';
import { helpOption, parseOptions } from './args.js';

/** What `airlock sessions` asks the recorder about (recordings.ts); `active` and `revoke` ask the edge's admin API. */
export const recordedActions = ['list', 'show', 'replay', 'verify'] as const;

export async function sessions(argv: string[]): Promise<number> {
  if ((recordedActions as readonly string[]).includes(argv.find((arg) => !arg.startsWith('-')) ?? '')) {
    return (await import('./recordings.js')).runRecorded('sessions', argv);
  }
  const { values, positionals } = parseOptions(
    argv,
    { subject: { type: 'string' }, issuer: { type: 'string' }, endpoint: { type: 'string' }, json: { type: 'boolean' }, ...helpOption },
    true,
  );
  const [action, id, ...extra] = positionals;
  if (action !== 'active' && action !== 'revoke') throw new UsageError(`say airlock sessions ${[...recordedActions, 'active', 'revoke'].join(', ')}`);
  if (extra.length > 0) throw new UsageError(`unexpected argument ${JSON.stringify(extra[0])}`);
  if (action === 'active' && id !== undefined) throw new UsageError('airlock sessions active takes no argument; filter with --subject and --issuer');
  if (action === 'revoke' && (id === undefined) === (values.subject === undefined)) {
    throw new UsageError('airlock sessions revoke takes either a session id or --subject S [--issuer I]');
  }
  if (action === 'revoke' && id !== undefined && values.issuer !== undefined) throw new UsageError('--issuer goes with --subject, not with a session id');

  const token = await currentToken(configDir());
  const api = adminApi(resolveEndpoint(values.endpoint, process.env, token.login.endpoint), token.token);

  if (action === 'active') {
    const listed = await api.listSessions({ subject: values.subject, issuer: values.issuer });
    process.stdout.write(values.json ? `${JSON.stringify({ sessions: listed }, null, 2)}\n` : renderSessions(listed, new Date()));
    return 0;
  }
  const revoked = id !== undefined ? await api.revokeSession(id) : await api.revokeSubject(values.subject!, values.issuer);
  if (values.json) console.log(JSON.stringify({ revoked }, null, 2));
  else if (revoked.length === 0) console.log('No session revoked.');
  else console.log(`Revoked ${revoked.length} session${revoked.length === 1 ? '' : 's'}:\n${revoked.map((sessionId) => `  ${sessionId}`).join('\n')}`);
  return 0;
}

export function renderSessions(listed: SessionSummary[], now: Date): string {
  if (listed.length === 0) return 'No sessions.\n';
  const state = (session: SessionSummary) => {
    if (session.revoked) return 'revoked';
    const expires = typeof session.expiresAt === 'number' ? session.expiresAt : Date.parse(session.expiresAt);
    return Number.isFinite(expires) && (expires < 1e12 ? expires * 1000 : expires) <= now.getTime() ? 'expired' : 'active';
  };
  return renderTable(
    ['SESSION', 'SUBJECT', 'NAME', 'ISSUER', 'ROLE', 'ISSUED', 'EXPIRES', 'STATE'],
    listed.map((session) => [
      session.sessionId,
      session.subject,
      session.name || '-',
      session.issuer,
      session.roleArn,
      formatTime(session.issuedAt),
      formatTime(session.expiresAt),
      state(session),
    ]),
  );
}
