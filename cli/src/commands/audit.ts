import { once } from 'node:events';
import { open } from 'node:fs/promises';
import type { Writable } from 'node:stream';
import { loadConfig } from '@airlock/config';
import { approvalStatusToJSON, SessionEvent } from '@airlock/contracts';
import { Failure, UsageError } from '../people/errors.js';
import { helpOption, parseOptions } from './args.js';
import { connectRecorder, parseTime } from './recordings.js';

/** The CSV columns, in order; docs/recordings.md describes each. */
export const csvColumns = [
  'time',
  'event_id',
  'session_id',
  'edge_id',
  'type',
  'subject',
  'name',
  'issuer',
  'role_arn',
  'service',
  'action',
  'resources',
  'region',
  'decision',
  'policy_ids',
  'reason',
  'approval_id',
  'approval_status',
  'request_id',
  'upstream_status',
  'aws_request_id',
  'error_code',
  'duration_ms',
  'bytes_in',
  'bytes_out',
  'masked_values',
  'unmasked_reason',
] as const;

type Column = (typeof csvColumns)[number];

const decisionNames: Record<number, string> = { 1: 'allow', 2: 'deny', 3: 'approval' };

/** The cells of one event; what an event type does not have stays empty. */
export function eventRow(event: SessionEvent): Record<Column, string> {
  const row = Object.fromEntries(csvColumns.map((column) => [column, ''])) as Record<Column, string>;
  Object.assign(row, { time: new Date(event.atMs).toISOString(), event_id: event.eventId, session_id: event.sessionId, edge_id: event.edgeId });
  const body = event.body;
  if (!body) return row;
  row.type = body.$case;
  if (body.$case === 'ended') {
    row.reason = body.value.reason;
    return row;
  }
  const principal = body.value.principal;
  Object.assign(row, { subject: principal?.subject ?? '', name: principal?.name ?? '', issuer: principal?.issuer ?? '' });
  if (body.$case === 'started') {
    row.role_arn = body.value.roleArn;
    return row;
  }
  const call = body.value.call;
  Object.assign(row, {
    role_arn: call?.roleArn ?? '',
    service: call?.service ?? '',
    action: call?.action ?? '',
    resources: (call?.resources ?? []).join(' '),
    region: call?.region ?? '',
    request_id: body.value.requestId,
    approval_id: body.value.approvalId,
  });
  if (body.$case === 'call') {
    const v = body.value;
    Object.assign(row, {
      decision: decisionNames[v.decision] ?? 'none',
      policy_ids: v.policyIds.join(' '),
      reason: v.reason,
      approval_status: v.approval ? approvalStatusToJSON(v.approval.status).replace('APPROVAL_STATUS_', '').toLowerCase() : '',
      upstream_status: v.upstreamStatus ? String(v.upstreamStatus) : '',
      aws_request_id: v.awsRequestId,
      error_code: v.errorCode,
      duration_ms: String(v.durationMs),
      bytes_in: String(v.bytesIn),
      bytes_out: String(v.bytesOut),
      masked_values: String(v.masked.length),
      unmasked_reason: v.unmaskedReason,
    });
  }
  return row;
}

/**
 * One CSV field (RFC 4180): quoted when it holds a quote, comma or line break, quotes doubled. A field a spreadsheet
 * would run as a formula (starting with = + - @ or a tab/CR) gets a leading apostrophe (OWASP's CSV injection advice).
 */
export function csvField(value: string): string {
  const safe = /^[=+\-@\t\r]/.test(value) ? `'${value}` : value;
  return /[",\r\n]/.test(safe) ? `"${safe.replaceAll('"', '""')}"` : safe;
}

export function csvLine(cells: readonly string[]): string {
  return `${cells.map(csvField).join(',')}\r\n`;
}

const options = {
  since: { type: 'string' },
  until: { type: 'string' },
  format: { type: 'string' },
  output: { type: 'string', short: 'o' },
  config: { type: 'string', short: 'c' },
  ...helpOption,
} as const;

/** How often progress goes to stderr at most. */
const progressEveryMs = 1_000;

export async function audit(argv: string[]): Promise<number> {
  const { values, positionals } = parseOptions(argv, options, true);
  const [action, ...extra] = positionals;
  if (action !== 'export' || extra.length > 0) throw new UsageError('say airlock audit export --since T --format csv|jsonl');
  if (values.format !== 'csv' && values.format !== 'jsonl') throw new UsageError('--format is csv or jsonl');
  const now = Date.now();
  const sinceMs = parseTime(values.since, '--since', now);
  if (sinceMs === undefined) throw new UsageError('--since is required');
  const untilMs = parseTime(values.until, '--until', now) ?? now;
  if (sinceMs >= untilMs) throw new UsageError('--since must be before --until');

  const { recorder, close } = await connectRecorder(await loadConfig(values.config));
  // Opened before the first page, so a path that cannot be written fails at once with its own error.
  const file = values.output ? await open(values.output, 'w').catch(async (error: unknown) => {
    await close();
    throw new Failure(`cannot write ${values.output}: ${error instanceof Error ? error.message : String(error)}`);
  }) : undefined;
  const output: Writable = file ? file.createWriteStream() : process.stdout;
  const totalHours = Math.max(1, Math.ceil((untilMs - sinceMs) / 3_600_000));
  let exported = 0;
  let lastProgress = Date.now();
  try {
    if (values.format === 'csv') await write(output, csvLine(csvColumns));
    let pageToken = '';
    do {
      const page = await recorder.exportEvents({ sinceMs, untilMs, pageToken, pageSize: 0 });
      for (const event of page.events) {
        const row = eventRow(event);
        await write(output, values.format === 'csv' ? csvLine(csvColumns.map((column) => row[column])) : `${JSON.stringify(SessionEvent.toJSON(event))}\n`);
      }
      exported += page.events.length;
      pageToken = page.nextPageToken;
      if (pageToken && Date.now() - lastProgress >= progressEveryMs) {
        lastProgress = Date.now();
        const hour = Math.min(totalHours, Math.floor((page.hourMs - sinceMs) / 3_600_000) + 1);
        process.stderr.write(`exported ${exported} events; at ${new Date(page.hourMs).toISOString().slice(0, 13)}h (hour ${Math.max(1, hour)} of ${totalHours})\n`);
      }
    } while (pageToken);
    if (file) await new Promise<void>((resolve, reject) => output.end((error?: Error | null) => (error ? reject(error) : resolve())));
    process.stderr.write(`exported ${exported} events from ${new Date(sinceMs).toISOString()} to ${new Date(untilMs).toISOString()}\n`);
    return 0;
  } finally {
    await close();
  }
}

/** Writes with backpressure, so a slow disk or pipe holds the export instead of memory. */
async function write(output: Writable, text: string): Promise<void> {
  if (!output.write(text)) await once(output, 'drain');
}
