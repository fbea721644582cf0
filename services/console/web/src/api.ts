import type { ErrorResponse, MeResponse } from '../../src/views.js';

/** A failure the console's API answered, with the code to match on (docs/admin-api.md) and a message for people. */
export class ApiError extends Error {
  constructor(
    readonly code: string,
    message: string,
    readonly status: number,
  ) {
    super(message);
  }
}

let csrfToken = '';
let onSignedOut: () => void = () => undefined;

/** Called once the sign-in is known: POSTs carry its CSRF token; a lapsed sign-in sends the page back to "Sign in". */
export function rememberSignIn(me: MeResponse, signedOut: () => void): void {
  csrfToken = me.csrfToken;
  onSignedOut = signedOut;
}

export async function getJson<T>(path: string): Promise<T> {
  return answer<T>(await fetch(path, { headers: { accept: 'application/json' }, credentials: 'same-origin' }));
}

export async function postJson<T>(path: string, body: unknown = {}): Promise<T> {
  return answer<T>(
    await fetch(path, {
      method: 'POST',
      headers: { accept: 'application/json', 'content-type': 'application/json', 'x-csrf-token': csrfToken },
      credentials: 'same-origin',
      body: JSON.stringify(body),
    }),
  );
}

async function answer<T>(response: Response): Promise<T> {
  if (response.status === 204) return undefined as T;
  const body = (await response.json().catch(() => ({ code: 'Internal', message: `The console answered HTTP ${response.status}.` }))) as T | ErrorResponse;
  if (response.ok) return body as T;
  const error = body as ErrorResponse;
  if (error.code === 'MissingAuthentication') onSignedOut();
  throw new ApiError(error.code, error.message, response.status);
}

/** The address that signs in and comes back to the route the person is on. */
export function signInHref(): string {
  return `/auth/login?return=${encodeURIComponent(location.hash || '#/approvals')}`;
}
