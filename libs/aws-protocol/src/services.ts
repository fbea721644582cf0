import { catalogueService, servicesBySigningName, type CatalogueService, type Partition, type Protocol } from '@airlock/aws-catalogue';
import { headerValue } from './values.js';
import { bestRoute, type RouteRequest } from './rest.js';
import { pathStyle } from './s3.js';

export type { Protocol } from '@airlock/aws-catalogue';

/** What Airlock knows about one AWS service, from the catalogue generated from the AWS service models. */
export interface ServiceInfo {
  /** Catalogue id: the model's name ("s3", "s3control", "runtime.sagemaker"). */
  readonly id: string;
  /** SigV4 signing name, as it appears in the credential scope. */
  readonly signingName: string;
  /** IAM action prefix (the signing name unless they differ, e.g. monitoring → cloudwatch). */
  readonly iamPrefix: string;
  readonly protocol: Protocol;
  /** First label(s) of the service's host name. */
  readonly endpointPrefix: string;
  readonly apiVersion: string;
  /** X-Amz-Target prefix of json-protocol services. */
  readonly targetPrefix?: string;
  /** Global services have one endpoint per partition, signed for one region. */
  readonly global?: boolean;
  /** Per partition: the global endpoint's host and signing region. */
  readonly globalEndpoints?: Readonly<Partial<Record<Partition, readonly [host: string, signingRegion: string]>>>;
  /** Namespace of query-protocol XML answers. */
  readonly xmlNamespace?: string;
}

const infos = new Map<string, ServiceInfo>();

/** The service with this catalogue id. */
export function serviceById(id: string): ServiceInfo | undefined {
  const cached = infos.get(id);
  if (cached) return cached;
  const entry = catalogueService(id);
  if (!entry) return undefined;
  const info = toInfo(id, entry);
  infos.set(id, info);
  return info;
}

/** The primary service signed with this SigV4 service name (s3 for "s3", not s3control). */
export function serviceInfo(signingName: string): ServiceInfo | undefined {
  const id = servicesBySigningName(signingName)[0];
  return id === undefined ? undefined : serviceById(id);
}

export interface ServiceRequest extends RouteRequest {
  /** Labels in front of the edge's host name (splitVirtualHost): an S3 bucket is routed path-style. */
  hostPrefix?: string | undefined;
}

/**
 * The service a request addresses, among those sharing its signing name (s3 and s3control; bedrock and
 * bedrock-runtime; email and sesv2…), told apart by what the request head shows: the X-Amz-Target prefix, a form
 * body or Action, or the best REST route. Falls back to the primary service. Never throws.
 */
export function serviceFor(signingName: string, request: ServiceRequest): ServiceInfo | undefined {
  const ids = servicesBySigningName(signingName);
  if (ids.length <= 1) return ids[0] === undefined ? undefined : serviceById(ids[0]);
  try {
    const candidates = ids.map((id) => [id, catalogueService(id)] as const).filter((entry): entry is readonly [string, CatalogueService] => entry[1] !== undefined);
    const target = headerValue(request.headers, 'x-amz-target');
    if (target) {
      const prefix = target.slice(0, target.lastIndexOf('.'));
      const match = candidates.find(([, service]) => service.tp === prefix);
      if (match) return serviceById(match[0]);
    }
    const contentType = headerValue(request.headers, 'content-type') ?? '';
    if (contentType.startsWith('application/x-www-form-urlencoded') || /(^|&)Action=/.test(request.rawQuery)) {
      const match = candidates.find(([, service]) => service.p === 'query' || service.p === 'ec2');
      if (match) return serviceById(match[0]);
    }
    let best: { id: string; score: number[] } | undefined;
    for (const [id, service] of candidates) {
      if (service.p !== 'rest-json' && service.p !== 'rest-xml') continue;
      const route = bestRoute(id, service, id === 's3' && request.hostPrefix ? { ...request, rawPath: pathStyle(request.hostPrefix, request.rawPath) } : request);
      if (route && (!best || compareScores(route.score, best.score) > 0)) best = { id, score: route.score };
    }
    if (best) return serviceById(best.id);
  } catch {
    // fall back to the primary service
  }
  return ids[0] === undefined ? undefined : serviceById(ids[0]);
}

export function compareScores(a: readonly number[], b: readonly number[]): number {
  for (let i = 0; i < Math.max(a.length, b.length); i += 1) {
    const difference = (a[i] ?? 0) - (b[i] ?? 0);
    if (difference !== 0) return difference;
  }
  return 0;
}

function toInfo(id: string, entry: CatalogueService): ServiceInfo {
  const info: { -readonly [K in keyof ServiceInfo]: ServiceInfo[K] } = {
    id,
    signingName: entry.sig,
    iamPrefix: entry.iam ?? entry.sig,
    protocol: entry.p,
    endpointPrefix: entry.ep,
    apiVersion: entry.v,
  };
  if (entry.tp) info.targetPrefix = entry.tp;
  if (entry.ns) info.xmlNamespace = entry.ns;
  if (entry.g) {
    info.global = true;
    info.globalEndpoints = entry.g;
  }
  return Object.freeze(info);
}
