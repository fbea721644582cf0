import { describe, expect, it } from 'vitest';
import { parseConfig } from './load.js';

describe('slack configuration', () => {
  it('is absent unless configured, and fills defaults when it is', () => {
    expect(parseConfig({}).slack).toBeUndefined();
    const slack = parseConfig({
      slack: {
        channels: ['C0APPROVALS'],
        users: { U0MANAGER: { subject: 'maria', issuer: 'https://idp.example.com', groups: ['managers'] } },
        people: { 'lee@example.com': { subject: 'lee', issuer: 'https://idp.example.com' } },
      },
    }).slack;
    expect(slack).toMatchObject({
      botTokenEnv: 'SLACK_BOT_TOKEN',
      signingSecretEnv: 'SLACK_SIGNING_SECRET',
      listen: '127.0.0.1:3000',
      people: { 'lee@example.com': { subject: 'lee', groups: [] } },
    });
    expect(slack?.apiUrl).toBeUndefined();
  });

  it('refuses a bot without channels, secrets inline, and malformed user ids', () => {
    expect(() => parseConfig({ slack: { channels: [] } })).toThrow(/slack\.channels/);
    expect(() => parseConfig({ slack: { channels: ['C1'], botToken: 'xoxb-1' } })).toThrow(/botToken/);
    expect(() => parseConfig({ slack: { channels: ['C1'], botTokenEnv: 'not a name' } })).toThrow(/environment variable/);
    expect(() => parseConfig({ slack: { channels: ['C1'], users: { maria: { subject: 'm', issuer: 'i' } } } })).toThrow(/slack\.users\.maria/);
  });
});
