import type { IncomingMessage, ServerResponse } from 'node:http';
import { AirlockError, toAirlockError } from '@airlock/errors';
import type { Logger } from '@airlock/logging';
import { clearCookie, readCookies, setCookie, type CookieNames } from './cookies.js';
import type { EdgeAdminApi } from './edge-admin.js';
import { baseHeaders, redirect } from './http.js';
import type { OidcSignIn } from './oidc.js';
import type { PersonSessions } from './person-session.js';
import { pendingSignInMs, type SignIns } from './sign-ins.js';
import type { Person } from './views.js';

export interface AuthRoutesContext {
  oidc: OidcSignIn;
  signIns: SignIns;
  sessions: PersonSessions;
  edge: EdgeAdminApi;
  cookies: CookieNames;
  publicUrl: URL;
  sessionSeconds: number;
  logger: Logger;
}

/** `/auth/login`, `/auth/callback`, `/auth/logout`: signing in at the IdP and out again. */
export async function handleAuth(request: IncomingMessage, response: ServerResponse, url: URL, context: AuthRoutesContext): Promise<void> {
  const { cookies } = context;
  // Both are browser navigations: a failure is a page with a way to start again, not JSON.
  if ((url.pathname === '/auth/login' || url.pathname === '/auth/callback') && request.method === 'GET') {
    try {
      if (url.pathname === '/auth/login') await startSignIn(response, url, context);
      else await finishSignIn(request, response, url, context);
    } catch (thrown) {
      const error = toAirlockError(thrown);
      context.logger.warn({ code: error.code, err: error.cause ?? error }, 'sign-in failed');
      signInFailedPage(response, error, cookies);
    }
    return;
  }
  if (url.pathname === '/auth/logout' && request.method === 'POST') {
    const signedIn = context.sessions.requireForChange(request);
    context.signIns.remove(signedIn.id);
    context.logger.info({ subject: signedIn.person.subject, issuer: signedIn.person.issuer }, 'signed out of the console');
    response.writeHead(204, { ...baseHeaders, 'set-cookie': clearCookie(cookies.session, cookies.secure), 'cache-control': 'no-store' }).end();
    return;
  }
  throw new AirlockError('NotFound', `No route ${request.method ?? 'GET'} ${url.pathname}.`);
}

async function startSignIn(response: ServerResponse, url: URL, context: AuthRoutesContext): Promise<void> {
  const { cookies } = context;
  const start = await context.oidc.start();
  const pending = context.signIns.startPending(start, pageRoute(url.searchParams.get('return')));
  redirect(response, start.url.href, { 'set-cookie': setCookie(cookies.signIn, pending.browserBinding, pendingSignInMs / 1000, cookies.secure) });
}

async function finishSignIn(request: IncomingMessage, response: ServerResponse, url: URL, context: AuthRoutesContext): Promise<void> {
  const { cookies } = context;
  const pending = context.signIns.takePending(url.searchParams.get('state'), readCookies(request.headers.cookie).get(cookies.signIn));
  if (!pending) {
    throw new AirlockError('InvalidRequest', 'This sign-in was not started in this browser, was already used, or took longer than 10 minutes.');
  }
  // The URL the IdP redirected to, as registered: the public address, never the Host header.
  const callback = new URL(`/auth/callback${url.search}`, context.publicUrl);
  const tokens = await context.oidc.finish(callback, pending);
  // The edge verifies the token and says who it is and whether they administer Airlock: if the edge does not accept
  // it (an issuer or audience it does not trust), nothing in the console would work, so the sign-in fails here.
  const person = await context.edge.call<Person>(tokens.presented, 'GET', 'whoami');
  const signedIn = context.signIns.add(person, tokens, context.sessionSeconds);
  context.logger.info({ subject: person.subject, issuer: person.issuer, admin: person.admin }, 'signed in to the console');
  redirect(response, `/${pending.returnTo}`, {
    'set-cookie': [setCookie(cookies.session, signedIn.id, context.sessionSeconds, cookies.secure), clearCookie(cookies.signIn, cookies.secure)],
  });
}

/** Only a route of the page (`#/…`) may be returned to, never an address of another site. */
function pageRoute(requested: string | null): string {
  return requested && /^#\/[\w\-/.%~]*$/.test(requested) ? requested : '#/approvals';
}

function signInFailedPage(response: ServerResponse, error: AirlockError, cookies: CookieNames): void {
  const html = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>Sign-in failed · Airlock console</title><link rel="stylesheet" href="/assets/console.css"></head>
<body><main class="page narrow"><h1>Sign-in failed</h1><p role="alert">${escapeHtml(error.message)}</p>
<p><a class="button" href="/auth/login">Sign in again</a></p></main></body></html>`;
  response.writeHead(error.status >= 500 ? error.status : 400, {
    ...baseHeaders,
    'content-type': 'text/html; charset=utf-8',
    'cache-control': 'no-store',
    'content-security-policy': "default-src 'none'; style-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'",
    'set-cookie': clearCookie(cookies.signIn, cookies.secure),
  });
  response.end(html);
}

function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (character) => `&#${character.charCodeAt(0)};`);
}
