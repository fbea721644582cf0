import { describe, expect, it } from 'vitest';
import { renderRecorded } from './recordings.js';
import { renderSessions } from './sessions.js';

describe('airlock sessions active output', () => {
  it('is a table with a header and one aligned line per session, with its state', () => {
    const now = new Date('2025-01-01T12:30:00Z');
    const base = { issuer: 'https://idp.example.com', groups: [], roleArn: 'arn:aws:iam::123456789012:role/agent', issuedAt: '2025-01-01T12:00:00.000Z' };
    const text = renderSessions(
      [
        { ...base, sessionId: 's-1', subject: 'alice', name: 'Alice', expiresAt: '2025-01-01T13:00:00.000Z', revoked: false },
        { ...base, sessionId: 'session-2', subject: 'bob', name: null, expiresAt: '2025-01-01T13:00:00.000Z', revoked: true },
        { ...base, sessionId: 's-3', subject: 'carol', name: 'Carol', expiresAt: Date.parse('2025-01-01T12:10:00Z'), revoked: false },
      ],
      now,
    );
    expect(text).toBe(
      [
        'SESSION    SUBJECT  NAME   ISSUER                   ROLE                                  ISSUED                EXPIRES               STATE',
        's-1        alice    Alice  https://idp.example.com  arn:aws:iam::123456789012:role/agent  2025-01-01 12:00:00Z  2025-01-01 13:00:00Z  active',
        'session-2  bob      -      https://idp.example.com  arn:aws:iam::123456789012:role/agent  2025-01-01 12:00:00Z  2025-01-01 13:00:00Z  revoked',
        's-3        carol    Carol  https://idp.example.com  arn:aws:iam::123456789012:role/agent  2025-01-01 12:00:00Z  2025-01-01 12:10:00Z  expired',
        '',
      ].join('\n'),
    );
  });

  it('says so when there are none', () => {
    expect(renderSessions([], new Date())).toBe('No sessions.\n');
  });
});

describe('airlock sessions list output (recorded sessions)', () => {
  it('is a table with who, role name, times, counts, decisions and the first operations', () => {
    const text = renderRecorded([
      {
        sessionId: 's-1',
        objects: 2,
        events: 9,
        subject: 'alice',
        name: 'Alice',
        roleArn: 'arn:aws:iam::123456789012:role/agent',
        firstAtMs: Date.parse('2026-11-26T06:00:00Z'),
        lastAtMs: Date.parse('2026-11-26T06:05:00Z'),
        calls: 4,
        operations: ['s3:GetObject', 's3:ListBucket', 's3:PutObject', 'sts:GetCallerIdentity'],
        decisions: ['allow', 'deny'],
      },
    ]);
    expect(text).toBe(
      [
        'SESSION  SUBJECT  ROLE   FIRST                 LAST                  CALLS  EVENTS  DECISIONS   OPERATIONS',
        's-1      Alice    agent  2026-11-26 06:00:00Z  2026-11-26 06:05:00Z  4      9       allow,deny  s3:GetObject,s3:ListBucket,s3:PutObject,+1',
        '',
      ].join('\n'),
    );
    expect(renderRecorded([])).toBe('No recorded sessions in that time range.\n');
  });
});
