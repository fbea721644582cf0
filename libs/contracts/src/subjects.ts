/**
 * Where contract messages travel on the bus. Publishers and consumers agree on these names and nothing else,
 * so they live beside the generated messages rather than in any service.
 */
export const sessionEventsStream = {
  name: 'AIRLOCK_SESSIONS',
  subjects: ['airlock.sessions.>'],
  /** Session ids are lower-case hex or base32, so they are always a single subject token. */
  subjectFor: (sessionId: string): string => `airlock.sessions.${sessionId}`,
} as const;

export const approvalEventsStream = {
  name: 'AIRLOCK_APPROVALS',
  subjects: ['airlock.approvals.>'],
  subjectFor: (kind: 'requested' | 'decided' | 'expired'): string => `airlock.approvals.${kind}`,
} as const;
