import type { CatalogueService } from '@airlock/aws-catalogue';
import { headerValue, type Headers, type Query } from './values.js';

/**
 * REST routing: which operation of a rest-json or rest-xml service a method, path and query name, by the HTTP bindings
 * of the service model ("GET /{Bucket}/{Key+}?tagging"). Most specific wins: more literal path characters, then more
 * required query keys and required members present (S3's ?uploads, x-amz-copy-source), then fewer greedy labels.
 */
interface Route {
  operation: string;
  regex: RegExp;
  /** Label names in capture order. */
  labels: string[];
  /** Query keys the binding requires, with the value it requires (undefined: any value). */
  query: [string, string | undefined][];
  discriminators: ['q' | 'h', string][];
  score: number[];
}

export interface RouteRequest {
  method: string;
  /** The path as received (percent-encoded). */
  rawPath: string;
  rawQuery: string;
  headers: Headers;
}

export interface RouteMatch {
  operation: string;
  /** Label values, percent-decoded when the path was raw. */
  labels: Record<string, string>;
  score: number[];
}

const compiled = new Map<string, Map<string, Route[]>>();

function routesOf(id: string, service: CatalogueService): Map<string, Route[]> {
  let routes = compiled.get(id);
  if (routes) return routes;
  routes = new Map();
  for (const [operation, op] of Object.entries(service.ops)) {
    if (!op.h) continue;
    const space = op.h.indexOf(' ');
    const method = op.h.slice(0, space);
    const route = compile(operation, op.h.slice(space + 1), op.d ?? []);
    const list = routes.get(method) ?? [];
    list.push(route);
    routes.set(method, list);
  }
  compiled.set(id, routes);
  return routes;
}

function compile(operation: string, uri: string, discriminators: readonly string[]): Route {
  const mark = uri.indexOf('?');
  const pathTemplate = mark === -1 ? uri : uri.slice(0, mark);
  const queryTemplate = mark === -1 ? '' : uri.slice(mark + 1);
  const labels: string[] = [];
  let literal = 0;
  let greedy = 0;
  let pattern = '';
  for (const part of pathTemplate.split(/(\{[^}]+\})/)) {
    const label = /^\{([^}+]+)(\+?)\}$/.exec(part);
    if (label) {
      labels.push(label[1] as string);
      if (label[2]) greedy += 1;
      pattern += label[2] ? '(.+)' : '([^/]+)';
    } else {
      literal += part.length;
      pattern += part.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
    }
  }
  // A trailing slash is optional both ways ("/2015-03-31/functions/" is sent with and without one).
  if (pattern !== '/') pattern = `${pattern.replace(/\/$/, '')}/?`;
  const query: [string, string | undefined][] = queryTemplate
    .split('&')
    .filter((entry) => entry !== '')
    .map((entry) => {
      const equals = entry.indexOf('=');
      return equals === -1 ? [entry, undefined] : [entry.slice(0, equals), entry.slice(equals + 1)];
    });
  const parsedDiscriminators = discriminators.map((entry) => [entry.slice(0, 1) as 'q' | 'h', entry.slice(2)] as ['q' | 'h', string]);
  const requiredQuery = new Set([...query.map(([key]) => key), ...parsedDiscriminators.filter(([kind]) => kind === 'q').map(([, key]) => key)]);
  const requiredHeaders = parsedDiscriminators.filter(([kind]) => kind === 'h').length;
  return {
    operation,
    regex: new RegExp(`^${pattern}$`),
    labels,
    query,
    discriminators: parsedDiscriminators,
    score: [literal, requiredQuery.size + requiredHeaders, -greedy],
  };
}

/** The best route of one service for a method, path, query and headers; undefined when none matches. */
export function matchRoute(id: string, service: CatalogueService, method: string, path: string, query: Query, headers: Headers, raw: boolean): RouteMatch | undefined {
  const routes = routesOf(id, service).get(method.toUpperCase());
  if (!routes) return undefined;
  let best: { route: Route; captures: string[] } | undefined;
  for (const route of routes) {
    const found = route.regex.exec(path);
    if (!found) continue;
    if (!route.query.every(([key, value]) => Object.hasOwn(query, key) && (value === undefined || first(query[key]) === value))) continue;
    if (!route.discriminators.every(([kind, name]) => (kind === 'q' ? Object.hasOwn(query, name) : headerValue(headers, name) !== undefined))) continue;
    if (!best || compare(route.score, best.route.score) > 0) best = { route, captures: found.slice(1) };
  }
  if (!best) return undefined;
  const labels: Record<string, string> = {};
  best.route.labels.forEach((name, index) => {
    const value = best.captures[index] ?? '';
    labels[name] = raw ? safeDecode(value) : value;
  });
  return { operation: best.route.operation, labels, score: best.route.score };
}

/** The best route for a request head as received (raw path and query). */
export function bestRoute(id: string, service: CatalogueService, request: RouteRequest): RouteMatch | undefined {
  return matchRoute(id, service, request.method, request.rawPath, parseQuery(request.rawQuery), request.headers, true);
}

export function parseQuery(rawQuery: string): Query {
  const out: Record<string, string> = {};
  for (const [key, value] of new URLSearchParams(rawQuery)) if (!Object.hasOwn(out, key)) out[key] = value;
  return out;
}

function first(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}

function compare(a: readonly number[], b: readonly number[]): number {
  for (let i = 0; i < a.length; i += 1) {
    const difference = (a[i] ?? 0) - (b[i] ?? 0);
    if (difference !== 0) return difference;
  }
  return 0;
}

export function safeDecode(value: string): string {
  try {
    return decodeURIComponent(value);
  } catch {
    return value;
  }
}
