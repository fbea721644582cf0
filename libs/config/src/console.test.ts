import { describe, expect, it } from 'vitest';
import { parseConfig } from './load.js';

describe('console configuration', () => {
  it('is absent unless configured, and fills defaults when it is', () => {
    expect(parseConfig({}).console).toBeUndefined();
    expect(parseConfig({ console: { oidc: { issuer: 'https://idp.example.com', clientId: 'airlock-console' } } }).console).toEqual({
      listen: '127.0.0.1:4580',
      oidc: { issuer: 'https://idp.example.com', clientId: 'airlock-console', scope: 'openid profile email' },
      sessionSeconds: 28_800,
    });
  });

  it('refuses a console without a client, a secret inline, and addresses that are not URLs', () => {
    expect(() => parseConfig({ console: { oidc: { issuer: 'https://idp.example.com' } } })).toThrow(/console\.oidc\.clientId/);
    expect(() => parseConfig({ console: { oidc: { issuer: 'https://idp', clientId: 'c', clientSecret: 's' } } })).toThrow(/clientSecret/);
    expect(() => parseConfig({ console: { oidc: { issuer: 'https://idp', clientId: 'c', clientSecretEnv: 'not a name' } } })).toThrow(/environment variable/);
    expect(() => parseConfig({ console: { edgeUrl: 'edge:4566', oidc: { issuer: 'https://idp', clientId: 'c' } } })).toThrow(/console\.edgeUrl/);
  });
});
