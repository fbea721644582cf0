import { describe, expect, it, vi } from 'vitest';
import { resolveVoter, type IdentityMapping, type SlackUserInfo } from './identity.js';

const issuer = 'https://idp.example.com';
const mapping: IdentityMapping = {
  users: { U1: { subject: 'maria', issuer, groups: ['managers'], name: 'Maria' } },
  people: { 'Lee@Example.com': { subject: 'lee', issuer, groups: ['managers'] } },
};

describe('resolveVoter', () => {
  it('uses an explicit mapping first, without asking Slack', async () => {
    const lookUp = vi.fn();
    expect(await resolveVoter(mapping, 'U1', 'maria.slack', lookUp)).toEqual({ subject: 'maria', issuer, groups: ['managers'], sessionId: '', name: 'Maria' });
    expect(lookUp).not.toHaveBeenCalled();
  });

  it('maps by confirmed profile e-mail, case-insensitively', async () => {
    const user: SlackUserInfo = { real_name: 'Lee Lead', is_email_confirmed: true, profile: { email: 'lee@EXAMPLE.com' } };
    expect(await resolveVoter(mapping, 'U2', 'lee', async () => user)).toMatchObject({ subject: 'lee', name: 'Lee Lead', groups: ['managers'] });
  });

  it('maps nobody who is unknown, deleted, a bot, unconfirmed or without e-mail', async () => {
    const email = { profile: { email: 'lee@example.com' } };
    for (const user of [undefined, { ...email, deleted: true }, { ...email, is_bot: true }, { ...email, is_email_confirmed: false }, {}, { profile: { email: 'x@y.z' } }]) {
      expect(await resolveVoter(mapping, 'U3', undefined, async () => user)).toBeUndefined();
    }
  });

  it('does not look anyone up when no e-mail mappings exist', async () => {
    const lookUp = vi.fn();
    expect(await resolveVoter({ users: {}, people: {} }, 'U9', undefined, lookUp)).toBeUndefined();
    expect(lookUp).not.toHaveBeenCalled();
  });
});
