import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import type { ServerResponse } from 'node:http';
import { baseHeaders } from './http.js';

/** The compiled browser modules (web/src → dist/web by `npm run build`) and the static files beside the sources. */
const appDir = new URL('./web/', import.meta.url);
const staticDir = new URL('../web/static/', import.meta.url);

/** Preact as the browser loads it: plain ES modules from the installed package, named by the page's import map. */
const vendor: Record<string, string> = {
  'preact.mjs': import.meta.resolve('preact'),
  'preact-hooks.mjs': import.meta.resolve('preact/hooks'),
  'preact-jsx-runtime.mjs': import.meta.resolve('preact/jsx-runtime'),
};

const contentTypes: Record<string, string> = {
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.map': 'application/json; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.html': 'text/html; charset=utf-8',
  '.svg': 'image/svg+xml',
};

interface Asset {
  body: Buffer;
  etag: string;
  contentType: string;
}

/**
 * Serves the page and its files. Every file is read once and kept (they change only with a new build); answers carry
 * an ETag so a reload costs a 304. The page's Content-Security-Policy allows scripts from this origin and the one
 * inline import map (by its hash), nothing else.
 */
export class Assets {
  private readonly cache = new Map<string, Promise<Asset | undefined>>();

  /** Whether `path` named an asset (answered), or not (left to the caller). */
  async serve(path: string, ifNoneMatch: string | undefined, response: ServerResponse): Promise<boolean> {
    const url = this.locate(path);
    if (!url) return false;
    const asset = await this.load(url);
    if (!asset) return false;
    const headers: Record<string, string> = { ...baseHeaders, etag: asset.etag, 'cache-control': 'no-cache', 'content-type': asset.contentType };
    if (asset.contentType.startsWith('text/html')) headers['content-security-policy'] = pageSecurityPolicy(asset.body.toString('utf8'));
    if (ifNoneMatch === asset.etag) {
      response.writeHead(304, headers).end();
      return true;
    }
    response.writeHead(200, { ...headers, 'content-length': String(asset.body.length) }).end(asset.body);
    return true;
  }

  private locate(path: string): URL | undefined {
    // Every route of the page itself is a #fragment, so the only document is /.
    if (path === '/' || path === '/index.html') return new URL('index.html', staticDir);
    if (path === '/assets/console.css') return new URL('console.css', staticDir);
    const app = /^\/assets\/app\/([a-z][a-z0-9-]*\.js(?:\.map)?)$/.exec(path);
    if (app?.[1]) return new URL(app[1], appDir);
    const library = /^\/assets\/vendor\/([a-z-]+\.mjs)$/.exec(path)?.[1];
    return library && vendor[library] ? new URL(vendor[library]) : undefined;
  }

  private load(url: URL): Promise<Asset | undefined> {
    let loading = this.cache.get(url.href);
    if (!loading) {
      loading = readFile(fileURLToPath(url)).then(
        (body) => ({
          body,
          etag: `"${createHash('sha256').update(body).digest('base64url').slice(0, 27)}"`,
          contentType: contentTypes[/\.[a-z]+$/.exec(url.pathname)?.[0] ?? ''] ?? 'application/octet-stream',
        }),
        () => undefined,
      );
      this.cache.set(url.href, loading);
    }
    return loading;
  }
}

/** Allows exactly the inline scripts the page holds (its import map), by hash. */
function pageSecurityPolicy(html: string): string {
  const inline = [...html.matchAll(/<script type="importmap">([\s\S]*?)<\/script>/g)].map(
    (match) => `'sha256-${createHash('sha256').update(match[1] ?? '').digest('base64')}'`,
  );
  return [
    "default-src 'none'",
    `script-src 'self' ${inline.join(' ')}`,
    "style-src 'self'",
    "img-src 'self' data:",
    "connect-src 'self'",
    "base-uri 'none'",
    "form-action 'self'",
    "frame-ancestors 'none'",
  ].join('; ');
}
