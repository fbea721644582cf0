import { readFileSync } from 'node:fs';
import type { Catalogue, CatalogueOperation, CatalogueService } from './types.js';

// The data sits beside src/ and dist/, so the same relative URL works from either.
const dataUrl = new URL('../data/catalogue.ndjson', import.meta.url);

type ServiceMeta = Omit<CatalogueService, 'ops'>;

interface Index {
  header: Omit<Catalogue, 'services'> & { services: Record<string, ServiceMeta> };
  /** Each service's operations, still as JSON text: parsed when first needed. */
  lines: Map<string, string>;
}

let index: Index | undefined;
const parsed = new Map<string, CatalogueService>();
let bySigningName: Map<string, readonly string[]> | undefined;

/**
 * Reads the file (1.3 MB, a few milliseconds) and its first line, the services' metadata. Operations stay text until
 * a request names their service: parsing all of them at once would cost ~100 ms on the first request.
 */
function load(): Index {
  if (index) return index;
  const text = readFileSync(dataUrl, 'utf8');
  const lines = new Map<string, string>();
  let start = text.indexOf('\n') + 1;
  const header = JSON.parse(text.slice(0, start - 1)) as Index['header'];
  while (start < text.length) {
    let end = text.indexOf('\n', start);
    if (end === -1) end = text.length;
    // Each line is ["<id>",{operations}]; ids hold no quotes.
    const idEnd = text.indexOf('"', start + 2);
    lines.set(text.slice(start + 2, idEnd), text.slice(start, end));
    start = end + 1;
  }
  index = { header, lines };
  return index;
}

/** The service with this id (the model's name in lower case: "s3", "s3control", "runtime.sagemaker"), operations included. */
export function catalogueService(id: string): CatalogueService | undefined {
  const cached = parsed.get(id);
  if (cached) return cached;
  const { header, lines } = load();
  const line = lines.get(id);
  if (!Object.hasOwn(header.services, id) || line === undefined) return undefined;
  const [, ops] = JSON.parse(line) as [string, Record<string, CatalogueOperation>];
  const service: CatalogueService = { ...header.services[id]!, ops };
  parsed.set(id, service);
  return service;
}

/** Every service's metadata, without operations (cheap). */
export function catalogueIndex(): Readonly<Record<string, Omit<CatalogueService, 'ops'>>> {
  return load().header.services;
}

/** The whole catalogue, every service parsed (tools and tests; request handling parses only what it needs). */
export function catalogue(): Catalogue {
  const { header } = load();
  const services: Record<string, CatalogueService> = {};
  for (const id of Object.keys(header.services)) services[id] = catalogueService(id)!;
  return { ...header, services };
}

/** Ids of the services signed with this SigV4 service name, the primary one first. */
export function servicesBySigningName(signingName: string): readonly string[] {
  if (!bySigningName) {
    const { services, primary } = load().header;
    const map = new Map<string, string[]>();
    for (const [id, service] of Object.entries(services)) {
      const list = map.get(service.sig) ?? [];
      list.push(id);
      map.set(service.sig, list);
    }
    for (const [sig, ids] of map) {
      const first = Object.hasOwn(primary, sig) ? primary[sig] : ids.find((id) => services[id]?.ep === sig);
      if (first) ids.sort((a, b) => Number(b === first) - Number(a === first));
    }
    bySigningName = map;
  }
  return bySigningName.get(signingName) ?? [];
}
