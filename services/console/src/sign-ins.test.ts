import { describe, expect, it } from 'vitest';
import { pendingSignInMs, SignIns } from './sign-ins.js';

const person = { subject: 'maria', issuer: 'https://people', name: 'Maria', email: null, groups: ['managers'], admin: false };
const tokens = { presented: 'header.payload.signature', presentedExpiresAtMs: 3_600_000 };
const start = (state: string) => ({ url: new URL('https://idp/authorize'), state, nonce: 'n', codeVerifier: 'v' });

describe('SignIns', () => {
  it('hands a pending sign-in back once, only to the browser holding its binding, within ten minutes', () => {
    let now = 0;
    const signIns = new SignIns(() => now);
    const pending = signIns.startPending(start('s1'), '#/sessions');
    expect(signIns.takePending('s1', 'another browser')).toBeUndefined();
    expect(signIns.takePending('s1', pending.browserBinding)).toMatchObject({ state: 's1', returnTo: '#/sessions' });
    expect(signIns.takePending('s1', pending.browserBinding)).toBeUndefined();

    const late = signIns.startPending(start('s2'), '#/approvals');
    now += pendingSignInMs + 1;
    expect(signIns.takePending('s2', late.browserBinding)).toBeUndefined();
    expect(signIns.takePending(null, late.browserBinding)).toBeUndefined();
  });

  it('ends a sign-in after its session time, and on removal', () => {
    let now = 0;
    const signIns = new SignIns(() => now);
    const signedIn = signIns.add(person, tokens, 60);
    expect(signedIn.id).not.toBe(signedIn.csrfToken);
    expect(signIns.find(signedIn.id)).toBe(signedIn);
    now = 59_999;
    expect(signIns.find(signedIn.id)).toBe(signedIn);
    now = 60_000;
    expect(signIns.find(signedIn.id)).toBeUndefined();

    const other = signIns.add(person, tokens, 60);
    signIns.remove(other.id);
    expect(signIns.find(other.id)).toBeUndefined();
    expect(signIns.find(undefined)).toBeUndefined();
  });
});
