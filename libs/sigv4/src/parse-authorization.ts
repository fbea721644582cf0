import { AirlockError } from '@airlock/errors';
import { ALGORITHM, EMPTY_SHA256, usesS3PathRules } from './constants.js';
import { parseAmzDate } from './amz-date.js';
import { headerValue } from './headers.js';
import { parseRawQuery } from './parse-raw-query.js';
import type { IncomingRequestHead, ParsedAuthorization } from './types.js';

// Shapes from the AWS SigV4 docs ("Signature Version 4 request elements", "Elements of an AWS API request signature").
const ACCESS_KEY_ID = /^[A-Za-z0-9]{1,128}$/;
const SCOPE_DATE = /^\d{8}$/;
const SCOPE_NAME = /^[a-z0-9-]{1,64}$/;
// A leading ':' admits HTTP/2 pseudo-headers: over HTTP/2 the SDKs sign ':authority' where HTTP/1.1 has 'host'.
const HEADER_NAME = /^:?[a-z0-9!#$%&'*+.^_`|~-]+$/;
const SIGNATURE = /^[0-9a-f]{64}$/;
/** SigV4 query-string authentication (presigned URLs) and SigV2's equivalent, by lower-cased parameter name. */
const PRESIGN_PARAMETERS = ['x-amz-algorithm', 'x-amz-credential', 'x-amz-signature'];
const SIGV2_PARAMETERS = ['awsaccesskeyid', 'signature'];
/** A presigned URL lives at most seven days (AWS SigV4 docs, "Authenticating Requests: Using Query Parameters"). */
const MAX_PRESIGN_EXPIRES_SECONDS = 604_800;

/**
 * Reads a SigV4-authenticated request: the Authorization header and the headers it depends on, or the X-Amz-*
 * parameters of a presigned URL. It checks shape only; `verifySignature` decides whether the signature is right and,
 * for a presigned URL, whether it is still valid.
 */
export function parseAuthorization(head: IncomingRequestHead): ParsedAuthorization {
  const authorization = headerValue(head.headers, 'authorization');
  const queryNames = lowerCaseQueryNames(head.rawQuery);
  const presigned = PRESIGN_PARAMETERS.some((name) => queryNames.has(name));

  if (authorization === undefined) {
    if (presigned) return parsePresigned(head);
    if (SIGV2_PARAMETERS.every((name) => queryNames.has(name))) {
      throw new AirlockError('IncompleteSignature', 'Only AWS Signature Version 4 (AWS4-HMAC-SHA256) is supported.');
    }
    throw new AirlockError(
      'MissingAuthentication',
      'Request is missing Authentication Token: sign it with AWS Signature Version 4 using the credentials Airlock issued.',
    );
  }
  if (presigned) {
    // AWS refuses a request that authenticates twice ("Only one auth mechanism allowed").
    throw new AirlockError('InvalidRequest', 'Only one auth mechanism allowed: send either the Authorization header or X-Amz-* query parameters, not both.');
  }

  const fields = parseFields(authorization);
  const credential = parseCredential(fields.credential, 'The Authorization header Credential');
  const signedHeaders = parseSignedHeaders(fields.signedHeaders);
  if (!SIGNATURE.test(fields.signature)) {
    throw new AirlockError('IncompleteSignature', 'The Authorization header Signature must be 64 lower-case hexadecimal digits.');
  }

  const amzDate = headerValue(head.headers, 'x-amz-date');
  if (amzDate === undefined) {
    throw new AirlockError('IncompleteSignature', "Authorization header requires existence of an 'X-Amz-Date' header.");
  }
  checkAmzDate(amzDate, credential.date, 'The X-Amz-Date header');

  const declaredPayloadHash = headerValue(head.headers, 'x-amz-content-sha256');
  const securityToken = headerValue(head.headers, 'x-amz-security-token');
  return {
    ...credential,
    signedHeaders,
    signature: fields.signature,
    amzDate,
    payloadHash: declaredPayloadHash ?? EMPTY_SHA256,
    payloadHashFromHeader: declaredPayloadHash !== undefined,
    ...(securityToken === undefined ? {} : { securityToken }),
  };
}

/**
 * Query-string authentication (AWS SigV4 docs, "Authenticating Requests: Using Query Parameters"). S3 signs the
 * literal UNSIGNED-PAYLOAD as the payload hash of a presigned URL (unless the URL itself declares
 * X-Amz-Content-Sha256); other services sign the hash of the body, as with the header form.
 */
function parsePresigned(head: IncomingRequestHead): ParsedAuthorization {
  const query = parseRawQuery(head.rawQuery);
  const param = (name: string, required: boolean): string | undefined => {
    const keys = Object.keys(query).filter((key) => key.toLowerCase() === name.toLowerCase());
    if (keys.length > 1 || Array.isArray(query[keys[0] ?? ''])) {
      throw new AirlockError('IncompleteSignature', `The query parameter ${name} is given more than once.`);
    }
    const value = keys[0] === undefined ? undefined : (query[keys[0]] as string);
    if (required && !value) throw new AirlockError('IncompleteSignature', `Query-string authentication requires the ${name} parameter.`);
    return value;
  };
  const algorithm = param('X-Amz-Algorithm', true);
  if (algorithm !== ALGORITHM) {
    throw new AirlockError('IncompleteSignature', `X-Amz-Algorithm only supports "${ALGORITHM}".`);
  }
  const credential = parseCredential(param('X-Amz-Credential', true) ?? '', 'X-Amz-Credential');
  const amzDate = param('X-Amz-Date', true) ?? '';
  checkAmzDate(amzDate, credential.date, 'X-Amz-Date');
  const expiresText = param('X-Amz-Expires', true) ?? '';
  const expiresSeconds = /^\d{1,7}$/.test(expiresText) ? Number(expiresText) : Number.NaN;
  if (!(expiresSeconds >= 1 && expiresSeconds <= MAX_PRESIGN_EXPIRES_SECONDS)) {
    throw new AirlockError('IncompleteSignature', `X-Amz-Expires must be a number of seconds from 1 to ${MAX_PRESIGN_EXPIRES_SECONDS} (seven days).`);
  }
  const signedHeaders = parseSignedHeaders(param('X-Amz-SignedHeaders', true) ?? '');
  const signature = param('X-Amz-Signature', true) ?? '';
  if (!SIGNATURE.test(signature)) {
    throw new AirlockError('IncompleteSignature', 'X-Amz-Signature must be 64 lower-case hexadecimal digits.');
  }
  const securityToken = param('X-Amz-Security-Token', false);
  const declaredInQuery = param('X-Amz-Content-Sha256', false);
  const declaredInHeader = headerValue(head.headers, 'x-amz-content-sha256');
  const s3 = usesS3PathRules(credential.service);
  const payloadHash = s3 ? (declaredInQuery ?? 'UNSIGNED-PAYLOAD') : (declaredInHeader ?? EMPTY_SHA256);
  return {
    ...credential,
    signedHeaders,
    signature,
    amzDate,
    payloadHash,
    payloadHashFromHeader: s3 || declaredInHeader !== undefined,
    presigned: { expiresSeconds },
    ...(securityToken === undefined ? {} : { securityToken }),
  };
}

function checkAmzDate(amzDate: string, credentialDate: string, what: string): void {
  if (parseAmzDate(amzDate) === undefined) {
    throw new AirlockError('IncompleteSignature', `${what} must be an ISO 8601 basic UTC timestamp such as 20150830T123600Z.`);
  }
  if (amzDate.slice(0, 8) !== credentialDate) {
    // S3 answers the same: "Invalid credential date. Date is not the same as X-Amz-Date."
    throw new AirlockError('IncompleteSignature', 'Invalid credential date: the date in the Credential scope is not the date of X-Amz-Date.');
  }
}

function parseFields(authorization: string): { credential: string; signedHeaders: string; signature: string } {
  const trimmed = authorization.trim();
  const space = trimmed.search(/\s/);
  const algorithm = space === -1 ? trimmed : trimmed.slice(0, space);
  if (algorithm !== ALGORITHM) {
    throw new AirlockError('IncompleteSignature', `Only AWS Signature Version 4 (${ALGORITHM}) is supported in the Authorization header.`);
  }
  const fields = new Map<string, string>();
  for (const part of space === -1 ? [] : trimmed.slice(space + 1).split(',')) {
    const item = part.trim();
    if (item === '') continue;
    const equals = item.indexOf('=');
    if (equals <= 0) throw new AirlockError('IncompleteSignature', 'The Authorization header is malformed: expected Name=Value pairs separated by commas.');
    const name = item.slice(0, equals);
    if (fields.has(name)) throw new AirlockError('IncompleteSignature', `The Authorization header names ${name} more than once.`);
    fields.set(name, item.slice(equals + 1));
  }
  const missing = ['Credential', 'SignedHeaders', 'Signature'].filter((name) => !fields.get(name));
  if (missing.length > 0) {
    throw new AirlockError('IncompleteSignature', missing.map((name) => `Authorization header requires '${name}' parameter.`).join(' '));
  }
  return { credential: fields.get('Credential') ?? '', signedHeaders: fields.get('SignedHeaders') ?? '', signature: fields.get('Signature') ?? '' };
}

function parseCredential(credential: string, what: string): Pick<ParsedAuthorization, 'accessKeyId' | 'date' | 'region' | 'service'> {
  const [accessKeyId, date, region, service, terminator, ...rest] = credential.split('/');
  if (
    accessKeyId === undefined || !ACCESS_KEY_ID.test(accessKeyId)
    || date === undefined || !SCOPE_DATE.test(date)
    || region === undefined || !SCOPE_NAME.test(region)
    || service === undefined || !SCOPE_NAME.test(service)
    || terminator !== 'aws4_request' || rest.length > 0
  ) {
    throw new AirlockError('IncompleteSignature', `${what} must be <access key id>/<yyyymmdd>/<region>/<service>/aws4_request.`);
  }
  return { accessKeyId, date, region, service };
}

function parseSignedHeaders(value: string): string[] {
  const names = value.split(';');
  if (names.some((name) => !HEADER_NAME.test(name))) {
    throw new AirlockError('IncompleteSignature', 'SignedHeaders must be lower-case header names separated by semicolons.');
  }
  if (new Set(names).size !== names.length) {
    throw new AirlockError('IncompleteSignature', 'SignedHeaders names a header more than once.');
  }
  // AWS SigV4 docs, "Create a canonical request": the host header must be signed, which ties the signature to the endpoint.
  // Over HTTP/2 that header is ':authority'.
  if (!names.includes('host') && !names.includes(':authority')) {
    throw new AirlockError('IncompleteSignature', "'Host' must be a 'SignedHeader' in the AWS Authorization.");
  }
  return names;
}

/** Parameter names only, lower-cased and decoded leniently: this is just to recognise other authentication styles. */
function lowerCaseQueryNames(rawQuery: string): Set<string> {
  const names = new Set<string>();
  if (rawQuery === '') return names;
  for (const pair of rawQuery.split('&')) {
    const equals = pair.indexOf('=');
    const name = equals === -1 ? pair : pair.slice(0, equals);
    try {
      names.add(decodeURIComponent(name).toLowerCase());
    } catch {
      names.add(name.toLowerCase());
    }
  }
  return names;
}
