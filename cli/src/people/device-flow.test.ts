import { describe, expect, it } from 'vitest';
import { pollForTokens, startDeviceAuthorization, type DeviceAuthorization } from './device-flow.js';
import { Failure } from './errors.js';

/** A token endpoint that answers from a script, and a clock that moves only when the poller sleeps. */
function scripted(answers: { status: number; body: Record<string, unknown> }[]) {
  let clock = 0;
  const sleeps: number[] = [];
  const forms: Record<string, string>[] = [];
  const fetchImpl = (async (_url: string | URL | Request, init?: RequestInit) => {
    forms.push(Object.fromEntries(new URLSearchParams(String(init?.body))));
    const answer = answers.shift() ?? { status: 500, body: {} };
    return new Response(JSON.stringify(answer.body), { status: answer.status, headers: { 'content-type': 'application/json' } });
  }) as typeof fetch;
  return {
    options: {
      tokenEndpoint: 'https://idp.example.com/token',
      clientId: 'airlock-cli',
      fetch: fetchImpl,
      sleep: async (ms: number) => {
        sleeps.push(ms);
        clock += ms;
      },
      now: () => clock,
    },
    sleeps,
    forms,
  };
}

const authorization: DeviceAuthorization = {
  deviceCode: 'device-code',
  userCode: 'ABCD-EFGH',
  verificationUri: 'https://idp.example.com/device',
  expiresInSeconds: 60,
  intervalSeconds: 2,
};
const pending = { status: 400, body: { error: 'authorization_pending' } };

describe('pollForTokens', () => {
  it('waits the interval between polls and returns the tokens once approved', async () => {
    const endpoint = scripted([pending, pending, { status: 200, body: { id_token: 'x.y.z', refresh_token: 'r' } }]);
    await expect(pollForTokens(authorization, endpoint.options)).resolves.toEqual({ id_token: 'x.y.z', refresh_token: 'r' });
    expect(endpoint.sleeps).toEqual([2000, 2000, 2000]);
    expect(endpoint.forms[0]).toEqual({ grant_type: 'urn:ietf:params:oauth:grant-type:device_code', device_code: 'device-code', client_id: 'airlock-cli' });
  });

  it('slows down by five seconds each time the server says slow_down (RFC 8628 §3.5)', async () => {
    const slowDown = { status: 400, body: { error: 'slow_down' } };
    const endpoint = scripted([slowDown, pending, slowDown, { status: 200, body: { id_token: 'x.y.z' } }]);
    await pollForTokens(authorization, endpoint.options);
    expect(endpoint.sleeps).toEqual([2000, 7000, 7000, 12000]);
  });

  it('stops with a clear message when the person refuses, or the code expires', async () => {
    await expect(pollForTokens(authorization, scripted([pending, { status: 400, body: { error: 'access_denied' } }]).options)).rejects.toThrow(
      new Failure('the sign-in was refused at the identity provider'),
    );
    await expect(pollForTokens(authorization, scripted([{ status: 400, body: { error: 'expired_token' } }]).options)).rejects.toThrow(/the code expired/);
    const forever = scripted(Array.from({ length: 100 }, () => pending));
    await expect(pollForTokens(authorization, forever.options)).rejects.toThrow(/the code expired before it was approved/);
    expect(forever.forms.length).toBe(30);
  });

  it('passes on any other OAuth error with its description', async () => {
    const endpoint = scripted([{ status: 400, body: { error: 'invalid_client', error_description: 'client authentication failed' } }]);
    await expect(pollForTokens(authorization, endpoint.options)).rejects.toThrow('the identity provider refused the login: invalid_client: client authentication failed');
  });
});

describe('startDeviceAuthorization', () => {
  const answering = (body: Record<string, unknown>) => {
    const forms: Record<string, string>[] = [];
    const fetchImpl = (async (_url: string | URL | Request, init?: RequestInit) => {
      forms.push(Object.fromEntries(new URLSearchParams(String(init?.body))));
      return new Response(JSON.stringify(body), { status: 200, headers: { 'content-type': 'application/json' } });
    }) as typeof fetch;
    return { fetch: fetchImpl, forms };
  };
  const request = { endpoint: 'https://idp.example.com/device/auth', clientId: 'airlock-cli', scope: 'openid offline_access' };

  it('defaults the interval to five seconds when the server names none', async () => {
    const server = answering({ device_code: 'd', user_code: 'U', verification_uri: 'https://idp.example.com/device', expires_in: 600 });
    await expect(startDeviceAuthorization(request, server.fetch)).resolves.toEqual({
      deviceCode: 'd',
      userCode: 'U',
      verificationUri: 'https://idp.example.com/device',
      expiresInSeconds: 600,
      intervalSeconds: 5,
    });
    expect(server.forms[0]).toEqual({ client_id: 'airlock-cli', scope: 'openid offline_access' });
  });

  it('asks for the audience as `audience`, and as an RFC 8707 `resource` when it is a URI', async () => {
    const server = answering({ device_code: 'd', user_code: 'U', verification_uri: 'https://idp.example.com/device', interval: 1 });
    await startDeviceAuthorization({ ...request, audience: 'airlock' }, server.fetch);
    await startDeviceAuthorization({ ...request, audience: 'https://airlock.example.com' }, server.fetch);
    expect(server.forms[0]).toMatchObject({ audience: 'airlock' });
    expect(server.forms[0]).not.toHaveProperty('resource');
    expect(server.forms[1]).toMatchObject({ audience: 'https://airlock.example.com', resource: 'https://airlock.example.com' });
  });
});
