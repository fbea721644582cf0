import type { Principal } from '@airlock/contracts';

/** Who someone is across tokens and sessions: the same `<issuer>#<subject>` the policy service uses. */
export function principalKey(principal: Principal): string {
  return `${principal.issuer}#${principal.subject}`;
}

/** Prefix of approval records; `approval-...` keys of other kinds never start with it. */
export const recordPrefix = 'approval:';

export function recordKey(id: string): string {
  return `${recordPrefix}${id}`;
}

/** Points (requester, fingerprint) at its current approval. Parts are URI-encoded so that no ":" inside them is ambiguous. */
export function indexKey(requesterKey: string, fingerprint: string): string {
  return `approval-index:${encodeURIComponent(requesterKey)}:${encodeURIComponent(fingerprint)}`;
}

/** Set once an event was published, so that a failed publish is retried later and a successful one is not repeated. */
export function publishedKey(id: string, kind: string): string {
  return `approval-published:${id}:${kind}`;
}
