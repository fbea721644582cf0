/**
 * One header's value as a single string. node joins most repeated headers with ', ' already and keeps some as arrays;
 * AWS joins repeated values with ',' (AWS SigV4 docs, "Create a canonical request": CanonicalHeaders), so arrays are
 * joined that way.
 */
export function headerValue(headers: Record<string, string | string[] | undefined>, name: string): string | undefined {
  const value = headers[name];
  return Array.isArray(value) ? value.join(',') : value;
}
