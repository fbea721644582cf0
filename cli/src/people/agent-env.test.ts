import { execFileSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { agentEnvironment, applyEnvironment, renderExports, shellQuote } from './agent-env.js';

const webIdentity = agentEnvironment({
  endpoint: 'http://127.0.0.1:4566',
  region: 'us-east-1',
  source: { kind: 'web-identity', tokenFile: '/home/p/.config/airlock/web-identity-token', roleArn: 'arn:aws:iam::123456789012:role/agent', sessionName: 'airlock-alice' },
});

describe('airlock env output', () => {
  it('points the client at Airlock with a token file and a role, clearing keys and profiles that would win', () => {
    expect(renderExports(webIdentity)).toBe(
      [
        'unset AWS_ACCESS_KEY_ID AWS_SECRET_ACCESS_KEY AWS_SESSION_TOKEN AWS_PROFILE AWS_DEFAULT_PROFILE',
        "export AWS_ENDPOINT_URL='http://127.0.0.1:4566'",
        "export AWS_REGION='us-east-1'",
        "export AWS_DEFAULT_REGION='us-east-1'",
        "export AWS_WEB_IDENTITY_TOKEN_FILE='/home/p/.config/airlock/web-identity-token'",
        "export AWS_ROLE_ARN='arn:aws:iam::123456789012:role/agent'",
        "export AWS_ROLE_SESSION_NAME='airlock-alice'",
        '',
      ].join('\n'),
    );
  });

  it('hands over the session credentials themselves with --credentials, clearing the web identity', () => {
    const environment = agentEnvironment({
      endpoint: 'http://127.0.0.1:4566',
      source: { kind: 'credentials', credentials: { accessKeyId: 'ALSA1', secretAccessKey: 's', sessionToken: 't', expiration: new Date('2025-01-01T13:00:00Z') } },
    });
    expect(environment.set).toEqual({
      AWS_ENDPOINT_URL: 'http://127.0.0.1:4566',
      AWS_ACCESS_KEY_ID: 'ALSA1',
      AWS_SECRET_ACCESS_KEY: 's',
      AWS_SESSION_TOKEN: 't',
      AWS_CREDENTIAL_EXPIRATION: '2025-01-01T13:00:00.000Z',
    });
    expect(environment.unset).toEqual(['AWS_PROFILE', 'AWS_DEFAULT_PROFILE', 'AWS_WEB_IDENTITY_TOKEN_FILE', 'AWS_ROLE_ARN', 'AWS_ROLE_SESSION_NAME']);
    expect(renderExports(environment)).not.toContain('AWS_REGION');
  });

  it('quotes values so that a POSIX shell reads them back exactly', () => {
    const awkward = `it's $HOME; \`rm -rf\` "quoted" \\ back`;
    expect(execFileSync('sh', ['-c', `printf %s ${shellQuote(awkward)}`], { encoding: 'utf8' })).toBe(awkward);
    const evaluated = execFileSync('sh', ['-c', `${renderExports(webIdentity)}\nprintf '%s|%s' "$AWS_ROLE_ARN" "\${AWS_ACCESS_KEY_ID-unset}"`], {
      encoding: 'utf8',
      env: { PATH: process.env.PATH, AWS_ACCESS_KEY_ID: 'AKIASTATIC' },
    });
    expect(evaluated).toBe('arn:aws:iam::123456789012:role/agent|unset');
  });

  it('builds the child environment of airlock exec from the parent one', () => {
    const child = applyEnvironment({ PATH: '/bin', AWS_PROFILE: 'prod', AWS_ACCESS_KEY_ID: 'AKIASTATIC' }, webIdentity);
    expect(child).toMatchObject({ PATH: '/bin', AWS_ENDPOINT_URL: 'http://127.0.0.1:4566', AWS_ROLE_ARN: 'arn:aws:iam::123456789012:role/agent' });
    expect(child).not.toHaveProperty('AWS_PROFILE');
    expect(child).not.toHaveProperty('AWS_ACCESS_KEY_ID');
  });
});
