import { describe, expect, it } from 'vitest';
import { discover, OAuthError, postForm } from './oidc.js';

const serving = (status: number, body: unknown) => {
  const urls: string[] = [];
  const fetchImpl = (async (url: string | URL | Request) => {
    urls.push(String(url));
    return new Response(typeof body === 'string' ? body : JSON.stringify(body), { status, headers: { 'content-type': 'application/json' } });
  }) as typeof fetch;
  return { fetch: fetchImpl, urls };
};

describe('discover', () => {
  const metadata = {
    issuer: 'https://idp.example.com/',
    token_endpoint: 'https://idp.example.com/oauth/token',
    device_authorization_endpoint: 'https://idp.example.com/oauth/device/code',
  };

  it('reads the endpoints from the OpenID configuration, whatever the trailing slash of the issuer', async () => {
    const server = serving(200, metadata);
    await expect(discover('https://idp.example.com', server.fetch)).resolves.toEqual({
      tokenEndpoint: 'https://idp.example.com/oauth/token',
      deviceAuthorizationEndpoint: 'https://idp.example.com/oauth/device/code',
    });
    expect(server.urls).toEqual(['https://idp.example.com/.well-known/openid-configuration']);
  });

  it('refuses metadata of another issuer, and an issuer without the device grant', async () => {
    await expect(discover('https://idp.example.com', serving(200, { ...metadata, issuer: 'https://evil.example.com' }).fetch)).rejects.toThrow(/calls itself "https:\/\/evil.example.com"/);
    await expect(discover('https://idp.example.com', serving(200, { ...metadata, device_authorization_endpoint: undefined }).fetch)).rejects.toThrow(
      'the identity provider https://idp.example.com does not offer the device authorization grant (no device_authorization_endpoint)',
    );
    await expect(discover('https://idp.example.com', serving(404, 'not found').fetch)).rejects.toThrow(/has no OpenID configuration .* \(HTTP 404\)/);
  });

  it('says which host it could not reach, and why', async () => {
    const refusing = (async () => {
      throw new TypeError('fetch failed', { cause: Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:1'), { code: 'ECONNREFUSED' }) });
    }) as typeof fetch;
    await expect(discover('https://idp.example.com', refusing)).rejects.toThrow('cannot reach the identity provider at https://idp.example.com: ECONNREFUSED');
  });
});

describe('postForm', () => {
  it('turns an OAuth error answer into an OAuthError with its code', async () => {
    const error = await postForm('https://idp.example.com/token', { a: '1' }, serving(400, { error: 'invalid_grant', error_description: 'expired' }).fetch).catch((thrown: unknown) => thrown);
    expect(error).toBeInstanceOf(OAuthError);
    expect(error).toMatchObject({ code: 'invalid_grant', message: 'invalid_grant: expired' });
  });
});
