import { randomBytes, timingSafeEqual } from 'node:crypto';
import type { AuthorizationStart, PersonTokens } from './oidc.js';
import type { Person } from './views.js';

/** A browser that has signed in. */
export interface SignedIn {
  /** Random; also the cookie value. */
  readonly id: string;
  readonly csrfToken: string;
  person: Person;
  tokens: PersonTokens;
  /** console.sessionSeconds after sign-in, whatever refreshes happen. */
  readonly endsAtMs: number;
  /** One refresh at a time per sign-in. */
  refreshing?: Promise<PersonTokens>;
}

/** A sign-in the IdP has not sent back yet, bound to the browser that started it by a cookie. */
export interface PendingSignIn extends AuthorizationStart {
  readonly browserBinding: string;
  /** Where the console goes afterwards: a `#/…` route of the page, never another site. */
  readonly returnTo: string;
  readonly startedAtMs: number;
}

/** How long a person has to finish signing in at the IdP. */
export const pendingSignInMs = 10 * 60 * 1000;
/** Bounds memory when someone starts sign-ins without finishing them. */
const maxPending = 10_000;

/**
 * Sign-ins live in this process's memory only: tokens never reach disk or a shared store, and a restart signs
 * everyone out. Several console replicas behind one address need sticky sessions (docs/console.md).
 */
export class SignIns {
  private readonly signedIn = new Map<string, SignedIn>();
  private readonly pending = new Map<string, PendingSignIn>();

  constructor(private readonly now: () => number) {}

  add(person: Person, tokens: PersonTokens, sessionSeconds: number): SignedIn {
    this.sweep();
    const signedIn: SignedIn = {
      id: randomToken(),
      csrfToken: randomToken(),
      person,
      tokens,
      endsAtMs: this.now() + sessionSeconds * 1000,
    };
    this.signedIn.set(signedIn.id, signedIn);
    return signedIn;
  }

  find(id: string | undefined): SignedIn | undefined {
    if (!id) return undefined;
    const signedIn = this.signedIn.get(id);
    if (signedIn && signedIn.endsAtMs <= this.now()) {
      this.signedIn.delete(id);
      return undefined;
    }
    return signedIn;
  }

  remove(id: string): void {
    this.signedIn.delete(id);
  }

  startPending(start: AuthorizationStart, returnTo: string): PendingSignIn {
    this.sweep();
    if (this.pending.size >= maxPending) {
      const oldest = this.pending.keys().next().value;
      if (oldest !== undefined) this.pending.delete(oldest);
    }
    const pending: PendingSignIn = { ...start, browserBinding: randomToken(), returnTo, startedAtMs: this.now() };
    this.pending.set(start.state, pending);
    return pending;
  }

  /** The pending sign-in of `state`, only for the browser holding its binding cookie; used once. */
  takePending(state: string | null, browserBinding: string | undefined): PendingSignIn | undefined {
    if (!state || !browserBinding) return undefined;
    const pending = this.pending.get(state);
    if (!pending || !sameSecret(pending.browserBinding, browserBinding)) return undefined;
    this.pending.delete(state);
    return this.now() - pending.startedAtMs <= pendingSignInMs ? pending : undefined;
  }

  private sweep(): void {
    const now = this.now();
    for (const [id, signedIn] of this.signedIn) if (signedIn.endsAtMs <= now) this.signedIn.delete(id);
    for (const [state, pending] of this.pending) if (now - pending.startedAtMs > pendingSignInMs) this.pending.delete(state);
  }
}

function randomToken(): string {
  return randomBytes(32).toString('base64url');
}

/** Constant-time comparison of two secrets (cookie bindings, CSRF tokens). */
export function sameSecret(expected: string, presented: string): boolean {
  const a = Buffer.from(expected);
  const b = Buffer.from(presented);
  return a.length === b.length && timingSafeEqual(a, b);
}
