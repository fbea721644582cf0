export type Headers = Record<string, string | string[] | undefined>;
export type Query = Record<string, string | string[]>;

export function headerValue(headers: Headers, name: string): string | undefined {
  const value = Object.hasOwn(headers, name) ? headers[name] : undefined;
  const single = Array.isArray(value) ? value[0] : value;
  return typeof single === 'string' ? single : undefined;
}

export function queryValue(query: Query, name: string): string | undefined {
  const value = Object.hasOwn(query, name) ? query[name] : undefined;
  const single = Array.isArray(value) ? value[0] : value;
  return typeof single === 'string' ? single : undefined;
}

const maxParameterLength = 256;
// Parameter names whose values must not reach policy input, events or recordings.
const secretParameter = /secret|password|passphrase|token|privatekey|keymaterial|credential|ciphertext|plaintext/i;
// …except names of things that hold one (SecretId, SecretArn, PasswordPolicyName): policy needs those.
const identifier = /(Id|Ids|Arn|ARN|Name)$/;

/**
 * Parameters as policy, approvals and recordings see them: values cut to 256 characters, and masked when the name
 * looks secret or the service model marks the member sensitive.
 */
export function sanitize(params: Record<string, string>, sensitive: ReadonlySet<string> = new Set()): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(params)) {
    const secret = (secretParameter.test(name) && !identifier.test(name)) || sensitive.has(name);
    out[name] = secret ? '[MASKED]' : String(value).slice(0, maxParameterLength);
  }
  return out;
}
