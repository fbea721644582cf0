import { AirlockError } from '@airlock/errors';

/*
 * NATS subject rules, checked before anything reaches a driver so that both drivers refuse the same input in the
 * same way (the embedded bus also uses names as folder names, which is why names are stricter than NATS needs).
 */

const NAME = /^[A-Za-z0-9_-]{1,64}$/;
const WHITESPACE = /\s/;

export function validateName(name: string, what: 'stream' | 'durable'): void {
  if (!NAME.test(name)) {
    throw new AirlockError('InvalidRequest', `Invalid ${what} name '${name}': use 1-64 letters, digits, '_' or '-'.`);
  }
}

/** A concrete subject, as published: no wildcards. */
export function validateSubject(subject: string): void {
  const tokens = tokensOf(subject, 'subject');
  if (tokens.some((t) => t === '*' || t === '>')) {
    throw new AirlockError('InvalidRequest', `Invalid subject '${subject}': wildcards are only allowed in patterns.`);
  }
}

/** A subscription or filter pattern: `*` matches one token, a final `>` one or more. */
export function validatePattern(pattern: string): void {
  const tokens = tokensOf(pattern, 'subject pattern');
  if (tokens.slice(0, -1).includes('>')) {
    throw new AirlockError('InvalidRequest', `Invalid subject pattern '${pattern}': '>' must be the last token.`);
  }
}

function tokensOf(subject: string, what: string): string[] {
  const tokens = subject.split('.');
  if (subject.length === 0 || WHITESPACE.test(subject) || tokens.some((t) => t.length === 0)) {
    throw new AirlockError('InvalidRequest', `Invalid ${what} '${subject}'.`);
  }
  return tokens;
}

export function subjectMatches(pattern: string, subject: string): boolean {
  const p = pattern.split('.');
  const s = subject.split('.');
  for (let i = 0; i < p.length; i++) {
    const token = p[i];
    if (token === '>') return s.length > i;
    if (i >= s.length) return false;
    if (token !== '*' && token !== s[i]) return false;
  }
  return p.length === s.length;
}

/** True when some subject matches both patterns (JetStream refuses streams whose subjects overlap). */
export function patternsOverlap(a: string, b: string): boolean {
  const x = a.split('.');
  const y = b.split('.');
  for (let i = 0; ; i++) {
    const u = x[i];
    const v = y[i];
    if (u === undefined && v === undefined) return true;
    if (u === '>') return v !== undefined;
    if (v === '>') return u !== undefined;
    if (u === undefined || v === undefined) return false;
    if (u !== '*' && v !== '*' && u !== v) return false;
  }
}

/** True when every subject matching `inner` also matches `outer`. */
export function patternWithin(inner: string, outer: string): boolean {
  const x = inner.split('.');
  const y = outer.split('.');
  for (let i = 0; ; i++) {
    const u = x[i];
    const v = y[i];
    if (v === '>') return u !== undefined;
    if (u === undefined || v === undefined) return u === v;
    if (u === '>') return false;
    if (v === '*') continue;
    if (u === '*' || u !== v) return false;
  }
}

/** Header names the server reserves (`Nats-Msg-Id` and friends) are not user headers. */
export function validateHeaders(headers: Record<string, string> | undefined): void {
  for (const [name, value] of Object.entries(headers ?? {})) {
    if (!/^[!-9;-~]+$/.test(name) || name.toLowerCase().startsWith('nats-')) {
      throw new AirlockError('InvalidRequest', `Invalid header name '${name}'.`);
    }
    if (/[\r\n]/.test(value)) {
      throw new AirlockError('InvalidRequest', `Header '${name}' must not contain line breaks.`);
    }
  }
}

export function isReservedHeader(name: string): boolean {
  return name.toLowerCase().startsWith('nats-');
}
