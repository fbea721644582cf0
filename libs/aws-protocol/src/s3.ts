/**
 * Virtual-hosted addressing: `bucket.airlock.example.com` instead of `airlock.example.com/bucket`, and S3 Control's
 * `123456789012.airlock.example.com`. The edge splits the labels in front of its own host name off the Host header and
 * hands them to classify as `hostPrefix`; nothing here ever turns a Host header into a place to connect to.
 */
export interface VirtualHost {
  /** The edge host name that matched (as given in edgeHosts, lower case). */
  edgeHost: string;
  /** The labels in front of it, without the trailing dot ("my.bucket", "123456789012"); absent for the edge itself. */
  prefix?: string;
}

const label = '[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?';
const prefixPattern = new RegExp(`^${label}(?:\\.${label})*$`);
const ipLiteral = /^(\d{1,3}(\.\d{1,3}){3}|\[[0-9a-f:.]+\])(:\d+)?$/;

/**
 * Splits a Host header into the edge host it addresses and the labels in front of it.
 *
 * @param host the Host header as received (any case, with or without a port)
 * @param edgeHosts the Host values the edge answers to, exactly as the edge's host check accepts them (`name` or
 *   `name:port`); IP literals match only exactly, never with a prefix
 * @returns undefined when the host is neither an edge host nor a valid DNS prefix of one (the longest edge host wins)
 */
export function splitVirtualHost(host: string | undefined, edgeHosts: Iterable<string>): VirtualHost | undefined {
  if (typeof host !== 'string' || host.length === 0 || host.length > 512) return undefined;
  const wanted = host.toLowerCase();
  let best: VirtualHost | undefined;
  for (const candidate of edgeHosts) {
    const edgeHost = String(candidate).toLowerCase();
    if (edgeHost === '') continue;
    if (wanted === edgeHost) return { edgeHost };
    if (ipLiteral.test(edgeHost) || !wanted.endsWith(`.${edgeHost}`)) continue;
    const prefix = wanted.slice(0, wanted.length - edgeHost.length - 1);
    if (prefix.length > 253 || !prefixPattern.test(prefix)) continue;
    if (!best || edgeHost.length > best.edgeHost.length) best = { edgeHost, prefix };
  }
  return best;
}

/** The path-style path of a virtual-hosted S3 request: `/key` on `bucket.edge` is `/bucket/key`. */
export function pathStyle(bucket: string, path: string): string {
  return path === '/' || path === '' ? `/${bucket}` : `/${bucket}${path.startsWith('/') ? '' : '/'}${path}`;
}
