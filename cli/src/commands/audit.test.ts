import { describe, expect, it } from 'vitest';
import { Decision, type SessionEvent } from '@airlock/contracts';
import { csvColumns, csvField, csvLine, eventRow } from './audit.js';
import { parseTime } from './recordings.js';

describe('airlock audit export', () => {
  it('escapes CSV fields as RFC 4180 says, and defuses spreadsheet formulas', () => {
    expect(csvField('plain')).toBe('plain');
    expect(csvField('a,b')).toBe('"a,b"');
    expect(csvField('say "hi"')).toBe('"say ""hi"""');
    expect(csvField('two\nlines')).toBe('"two\nlines"');
    expect(csvField('=HYPERLINK("x")')).toBe(`"'=HYPERLINK(""x"")"`);
    expect(csvField('@SUM(A1)')).toBe("'@SUM(A1)");
    expect(csvLine(['a', 'b,c', ''])).toBe('a,"b,c",\r\n');
  });

  it('puts a call in one row with every documented column', () => {
    const event: SessionEvent = {
      eventId: 'e1',
      sessionId: 's1',
      atMs: Date.parse('2026-11-26T06:00:00Z'),
      edgeId: 'edge-1',
      body: {
        $case: 'call',
        value: {
          principal: { subject: 'alice', issuer: 'https://idp', groups: [], sessionId: 's1', name: 'Alice, A.' },
          call: { service: 's3', operation: 'PutObject', action: 's3:PutObject', resources: ['arn:aws:s3:::b/k1', 'arn:aws:s3:::b/k2'], region: 'us-east-1', roleArn: 'arn:aws:iam::1:role/r', parameters: {} },
          decision: Decision.DECISION_DENY,
          policyIds: ['p1', 'p2'],
          reason: 'no "writes"',
          approvalId: '',
          upstreamStatus: 0,
          awsRequestId: '',
          errorCode: 'AccessDenied',
          durationMs: 3,
          bytesIn: 10,
          bytesOut: 0,
          masked: [],
          requestId: 'r1',
          unmaskedReason: '',
        },
      },
    };
    const row = eventRow(event);
    expect(Object.keys(row)).toEqual([...csvColumns]);
    expect(row).toMatchObject({ time: '2026-11-26T06:00:00.000Z', type: 'call', name: 'Alice, A.', action: 's3:PutObject', resources: 'arn:aws:s3:::b/k1 arn:aws:s3:::b/k2', decision: 'deny', policy_ids: 'p1 p2', error_code: 'AccessDenied', upstream_status: '' });
    expect(csvLine(csvColumns.map((column) => row[column]))).toContain(',"Alice, A.",');
  });

  it('reads --since as an ISO time or an age', () => {
    const now = Date.parse('2026-11-26T12:00:00Z');
    expect(parseTime('24h', '--since', now)).toBe(Date.parse('2026-11-25T12:00:00Z'));
    expect(parseTime('90m', '--since', now)).toBe(now - 90 * 60_000);
    expect(parseTime('2026-11-26T06:00Z', '--since', now)).toBe(Date.parse('2026-11-26T06:00:00Z'));
    expect(parseTime(undefined, '--since', now)).toBeUndefined();
    expect(() => parseTime('yesterday', '--since', now)).toThrow(/ISO 8601/);
  });
});
