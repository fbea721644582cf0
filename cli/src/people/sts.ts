import { Failure } from './errors.js';
import { httpFetch, send, type Fetch } from './http.js';
import { xmlField } from './xml-fields.js';

export interface SessionCredentials {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken: string;
  expiration: Date;
}

export interface AssumeRoleRequest {
  endpoint: string;
  roleArn: string;
  token: string;
  sessionName: string;
  durationSeconds?: number;
}

/**
 * sts:AssumeRoleWithWebIdentity against Airlock's STS facade, in the query protocol (an unsigned form POST, as every
 * AWS SDK sends it). The answer holds Airlock session credentials, worthless anywhere but at Airlock.
 */
export async function assumeRoleWithWebIdentity(request: AssumeRoleRequest, fetchImpl: Fetch = httpFetch): Promise<SessionCredentials> {
  const form = new URLSearchParams({
    Action: 'AssumeRoleWithWebIdentity',
    Version: '2011-06-15',
    RoleArn: request.roleArn,
    RoleSessionName: request.sessionName,
    WebIdentityToken: request.token,
  });
  if (request.durationSeconds !== undefined) form.set('DurationSeconds', String(request.durationSeconds));
  const response = await send(
    fetchImpl,
    `${request.endpoint.replace(/\/+$/, '')}/`,
    { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded; charset=utf-8' }, body: form.toString() },
    'Airlock',
  );
  const xml = await response.text();
  if (!response.ok) {
    const code = xmlField(xml, 'Code');
    const message = xmlField(xml, 'Message');
    throw new Failure(`Airlock refused the role ${request.roleArn}: ${code ? `${code}: ` : ''}${message ?? `HTTP ${response.status}`}`);
  }
  const accessKeyId = xmlField(xml, 'AccessKeyId');
  const secretAccessKey = xmlField(xml, 'SecretAccessKey');
  const sessionToken = xmlField(xml, 'SessionToken');
  const expiration = new Date(xmlField(xml, 'Expiration') ?? '');
  if (!accessKeyId || !secretAccessKey || !sessionToken || Number.isNaN(expiration.getTime())) {
    throw new Failure(`Airlock's answer to AssumeRoleWithWebIdentity has no complete credentials (HTTP ${response.status}); is ${request.endpoint} an Airlock endpoint?`);
  }
  return { accessKeyId, secretAccessKey, sessionToken, expiration };
}

/**
 * A RoleSessionName that names the person (`airlock-alice`), within STS's rules: 2-64 characters of letters, digits
 * and `+=,.@_-`.
 */
export function roleSessionName(who: string | undefined): string {
  const cleaned = (who ?? '').split('@')[0]!.replace(/[^\w+=,.@-]/g, '-');
  return `airlock-${cleaned || 'person'}`.slice(0, 64);
}
