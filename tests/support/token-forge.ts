import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { exportJWK, generateKeyPair, SignJWT, type JWTPayload } from 'jose';

export interface TokenForge {
  issuer: string;
  /** Signs any claims with this issuer's key, including ones a real IdP would never issue (expired, foreign audience). */
  sign(claims: JWTPayload & { exp: number; iat?: number }): Promise<string>;
  stop(): Promise<void>;
}

/**
 * A minimal OIDC issuer (discovery document and JWKS over HTTP) whose tokens the test shapes freely. The real
 * IdP (oidc-provider) covers the happy path; this one produces the tokens that must be refused.
 */
export async function startTokenForge(): Promise<TokenForge> {
  const { publicKey, privateKey } = await generateKeyPair('RS256');
  const jwk = { ...(await exportJWK(publicKey)), kid: 'forge-1', alg: 'RS256', use: 'sig' };
  let issuer = '';
  const server = createServer((request, response) => {
    const body =
      request.url === '/.well-known/openid-configuration'
        ? { issuer, jwks_uri: `${issuer}/jwks`, id_token_signing_alg_values_supported: ['RS256'] }
        : request.url === '/jwks'
          ? { keys: [jwk] }
          : undefined;
    response.writeHead(body ? 200 : 404, { 'content-type': 'application/json' });
    response.end(JSON.stringify(body ?? {}));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  issuer = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    issuer,
    sign: (claims) =>
      new SignJWT(claims)
        .setProtectedHeader({ alg: 'RS256', kid: 'forge-1', typ: 'JWT' })
        .setIssuer(claims.iss ?? issuer)
        .setIssuedAt(claims.iat ?? Math.floor(Date.now() / 1000) - 60)
        .sign(privateKey),
    stop: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
