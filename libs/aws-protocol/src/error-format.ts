import { catalogueIndex } from '@airlock/aws-catalogue';
import type { Protocol } from './services.js';
import { headerValue, type Headers } from './values.js';

/** How an error answer is written (renderError): the protocol and, for query protocols, the answer's XML namespace. */
export interface ErrorFormat {
  protocol: Protocol;
  xmlNamespace?: string | undefined;
}

type QueryFormat = ErrorFormat & { protocol: 'query' | 'ec2' };

let byVersion: ReadonlyMap<string, QueryFormat> | undefined;

/**
 * The error format the client's SDK reads, for a request that names no service: no SigV4 credential scope, because it
 * is unsigned (an anonymous S3 client, an agent without credentials) or not SigV4 at all. Its shape tells the protocol:
 *
 * - `X-Amz-Target` → the JSON protocol (JSON 1.0 and 1.1 errors read the same);
 * - `Action` (query string or form body) or a form body → the query protocol, EC2's when `Version` is EC2's API
 *   version, with the namespace of the service of that version;
 * - anything else → S3's REST-XML: S3 is the service whose SDKs send unsigned requests by design (public buckets).
 */
export function errorFormatFor(headers: Headers, parameters: Readonly<Record<string, string>>): ErrorFormat {
  if (headerValue(headers, 'x-amz-target')) return { protocol: 'json' };
  const form = (headerValue(headers, 'content-type') ?? '').startsWith('application/x-www-form-urlencoded');
  if (!form && !Object.hasOwn(parameters, 'Action')) return { protocol: 'rest-xml' };
  const version = Object.hasOwn(parameters, 'Version') ? parameters.Version : undefined;
  return (version === undefined ? undefined : queryFormats().get(version)) ?? { protocol: 'query' };
}

/**
 * Query-protocol API versions and what their errors look like. Services sharing a version (RDS, DocumentDB, Neptune;
 * Elastic Beanstalk and SES) take the first's namespace: SDKs read the error's code and message, not its namespace.
 */
function queryFormats(): ReadonlyMap<string, QueryFormat> {
  if (byVersion) return byVersion;
  const formats = new Map<string, QueryFormat>();
  for (const service of Object.values(catalogueIndex())) {
    // JSON services that still take query requests (SQS) answer those in the query protocol.
    const protocol = service.p === 'ec2' ? 'ec2' : service.p === 'query' || service.qc === 1 ? 'query' : undefined;
    if (protocol && !formats.has(service.v)) formats.set(service.v, { protocol, ...(service.ns ? { xmlNamespace: service.ns } : {}) });
  }
  byVersion = formats;
  return formats;
}
