import type { Principal } from '@airlock/contracts';

/** The Airlock identity a Slack user votes as. */
export interface MappedIdentity {
  subject: string;
  issuer: string;
  groups: string[];
  /** Shown in messages and records; the Slack profile's name when omitted. */
  name?: string;
}

/** The part of users.info the mapping needs. */
export interface SlackUserInfo {
  deleted?: boolean;
  is_bot?: boolean;
  is_email_confirmed?: boolean;
  real_name?: string;
  name?: string;
  profile?: { email?: string; real_name?: string; display_name?: string };
}

export interface IdentityMapping {
  /** By Slack user id ("U0123ABC"); checked first. */
  users: Record<string, MappedIdentity>;
  /** By the e-mail address on the Slack profile (users.info, scope users:read.email); case-insensitive. */
  people: Record<string, MappedIdentity>;
}

export type LookUpUser = (userId: string) => Promise<SlackUserInfo | undefined>;

/**
 * Maps a Slack user to an Airlock principal: an explicit entry for the user id wins; otherwise, when e-mail mappings
 * exist, the user's confirmed profile e-mail is looked up. Deleted users and bots are never mapped. Undefined: not mapped.
 */
export async function resolveVoter(
  mapping: IdentityMapping,
  userId: string,
  slackName: string | undefined,
  lookUp: LookUpUser,
): Promise<Principal | undefined> {
  const explicit = Object.hasOwn(mapping.users, userId) ? mapping.users[userId] : undefined;
  if (explicit) return toPrincipal(explicit, slackName ?? userId);
  if (Object.keys(mapping.people).length === 0) return undefined;
  const user = await lookUp(userId);
  if (!user || user.deleted || user.is_bot || user.is_email_confirmed === false) return undefined;
  const email = user.profile?.email?.trim().toLowerCase();
  if (!email) return undefined;
  const byEmail = Object.entries(mapping.people).find(([address]) => address.trim().toLowerCase() === email)?.[1];
  return byEmail ? toPrincipal(byEmail, user.real_name || user.profile?.real_name || email) : undefined;
}

function toPrincipal(identity: MappedIdentity, fallbackName: string): Principal {
  return {
    subject: identity.subject,
    issuer: identity.issuer,
    groups: [...identity.groups],
    sessionId: '',
    name: identity.name ?? fallbackName,
  };
}
