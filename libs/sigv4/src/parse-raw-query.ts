import { AirlockError } from '@airlock/errors';

/**
 * Decodes a raw query string into names and values. Only percent-escapes are decoded: a '+' stays a '+', because AWS
 * clients encode a space as %20 and sign '+' as %2B (AWS SigV4 docs, "Create a canonical request": UriEncode), so
 * reading '+' as a space would change what the client signed. A name that repeats becomes an array, in wire order.
 * The result has no prototype, so a parameter named `__proto__` or `constructor` is just a parameter.
 */
export function parseRawQuery(rawQuery: string): Record<string, string | string[]> {
  const query: Record<string, string | string[]> = Object.create(null) as Record<string, string | string[]>;
  if (rawQuery === '') return query;
  for (const pair of rawQuery.split('&')) {
    if (pair === '') continue;
    const equals = pair.indexOf('=');
    const name = decode(equals === -1 ? pair : pair.slice(0, equals));
    const value = equals === -1 ? '' : decode(pair.slice(equals + 1));
    const existing = query[name];
    if (existing === undefined) query[name] = value;
    else if (Array.isArray(existing)) existing.push(value);
    else query[name] = [existing, value];
  }
  return query;
}

function decode(component: string): string {
  try {
    return decodeURIComponent(component);
  } catch (error) {
    throw new AirlockError('InvalidRequest', 'The query string contains an invalid percent-encoded sequence.', { cause: error });
  }
}
