#!/usr/bin/env node
// Generates libs/aws-catalogue/data/catalogue.ndjson from the AWS service models shipped in the aws-sdk (v2) npm package
// (apis/*.min.json and lib/region_config_data.json), plus the few rules in rules.mjs that the models do not carry.
// With --check, fails when the committed catalogue differs from what the models and rules generate (CI can run it).
// The format is described in ../src/types.ts; keep both in step.
import { readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  actionOverrides,
  extraGlobalEndpoints,
  genericResourceTemplates,
  iamPrefixBySigningName,
  keepRegional,
  primaryBySigningName,
  readVerbs,
  resourceTemplates,
  versionedActions,
} from './rules.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const target = join(here, '../data/catalogue.ndjson');
const check = process.argv.includes('--check');
const require = createRequire(import.meta.url);
const sdkRoot = dirname(require.resolve('aws-sdk/package.json'));
const sdkVersion = JSON.parse(readFileSync(join(sdkRoot, 'package.json'), 'utf8')).version;

const protocols = new Set(['query', 'ec2', 'json', 'rest-json', 'rest-xml']);
const maxSensitivePaths = 24;
const maxDepth = 8;

function latestModels() {
  const latest = new Map();
  for (const file of readdirSync(join(sdkRoot, 'apis')).sort()) {
    const match = /^(.+)-(\d{4}-\d{2}-\d{2})\.min\.json$/.exec(file);
    if (match) latest.set(match[1], file); // sorted by date within a name: the last one wins
  }
  return [...latest.entries()].sort(([a], [b]) => a.localeCompare(b));
}

const isRead = (operation) => readVerbs.some((verb) => operation.startsWith(verb) && (operation.length === verb.length || /[A-Z0-9]/.test(operation[verb.length])));

function resolver(model) {
  return (ref) => {
    let shape = ref;
    for (let hops = 0; shape && shape.shape && hops < 4; hops += 1) shape = { ...model.shapes[shape.shape], ...withoutShape(shape) };
    return shape ?? {};
  };
}

function withoutShape(ref) {
  const { shape: _shape, ...rest } = ref;
  return rest;
}

const kindOf = (shape) => (shape.type === 'list' ? 1 : shape.type === 'map' ? 2 : 0);

/** The name a top-level input member has on the wire, for the body or query locations. */
function wireName(protocol, name, member, shape) {
  if (protocol === 'ec2') {
    const base = member.queryName ?? (member.locationName ? member.locationName[0].toUpperCase() + member.locationName.slice(1) : name);
    return base;
  }
  if (protocol === 'query') {
    const base = member.locationName ?? name;
    if (shape.type === 'list') return shape.flattened ? base : `${base}.${shape.member?.locationName ?? 'member'}`;
    if (shape.type === 'map') return shape.flattened ? base : `${base}.entry`;
    return base;
  }
  return member.locationName ?? name;
}

function locationOf(member) {
  switch (member.location) {
    case 'uri':
      return 'u';
    case 'querystring':
      return 'q';
    case 'header':
      return 'h';
    default:
      return 'b';
  }
}

function parseTemplate(template) {
  const placeholders = [];
  for (const match of template.matchAll(/\{([A-Za-z0-9]+)(?:\?([^}:]*))?(?::([A-Za-z]+))?\}/g)) {
    const [, name, fallback, filter] = match;
    if (name === 'p' || name === 'r' || name === 'a') continue;
    placeholders.push({ name, optional: fallback !== undefined, filter });
  }
  return placeholders;
}

/** Whether the answer's body is one blob or string member: the caller's own data (an S3 object, a function's result). */
function bodyIsData(resolve, ref) {
  if (!ref) return false;
  const output = resolve(ref);
  if (output.type !== 'structure' || !output.payload) return false;
  return resolve(output.members[output.payload]).type !== 'structure';
}

function sensitivePaths(resolve, ref, protocol) {
  const out = [];
  const walk = (current, path, depth, seen) => {
    if (out.length >= maxSensitivePaths || depth > maxDepth) return;
    const shape = resolve(current);
    if (shape.sensitive || current.sensitive) {
      out.push(path.join('.') || '.');
      return;
    }
    const key = current.shape;
    if (key && seen.has(key)) return;
    const nextSeen = key ? new Set(seen).add(key) : seen;
    if (shape.type === 'structure') {
      for (const [name, member] of Object.entries(shape.members ?? {})) {
        const wire = protocol === 'json' ? name : (member.locationName ?? name);
        walk(member, [...path, wire], depth + 1, nextSeen);
      }
    } else if (shape.type === 'list' && shape.member) {
      walk(shape.member, [...path, '[]'], depth + 1, nextSeen);
    } else if (shape.type === 'map' && shape.value) {
      walk(shape.value, [...path, '{}'], depth + 1, nextSeen);
    }
  };
  if (!ref) return out;
  const output = resolve(ref);
  if (output.type !== 'structure' || output.sensitive || ref.sensitive) {
    walk(ref, [], 0, new Set());
    return out;
  }
  // Paths are into the answer's body. Members bound to headers or the status code are not in it; a payload member is
  // the body itself: a structure payload's members are the body's, and a blob or string payload (a Lambda result, an
  // S3 object) is the caller's own data, left to the detectors rather than masked whole.
  if (output.payload) {
    const payload = output.members[output.payload];
    if (resolve(payload).type === 'structure') walk(payload, [], 0, new Set());
    return out;
  }
  const seen = new Set(ref.shape ? [ref.shape] : []);
  for (const [name, member] of Object.entries(output.members ?? {})) {
    if (member.location) continue;
    walk(member, [protocol === 'json' ? name : (member.locationName ?? name)], 1, seen);
  }
  return out;
}

function globalEndpoints(endpointPrefix, regionConfig) {
  if (keepRegional.has(endpointPrefix)) return undefined;
  const out = {};
  const partitions = { aws: ['*', 'us-east-1', 'amazonaws.com'], 'aws-cn': ['cn-*', 'cn-north-1', 'amazonaws.com.cn'], 'aws-us-gov': ['us-gov-*', 'us-gov-west-1', 'amazonaws.com'] };
  for (const [partition, [pattern]] of Object.entries(partitions)) {
    let rule = regionConfig.rules[`${pattern}/${endpointPrefix}`];
    if (typeof rule === 'string') rule = regionConfig.patterns[rule];
    if (!rule && partition !== 'aws') continue;
    if (!rule?.globalEndpoint) continue;
    const host = rule.endpoint.replace(/^https:\/\//, '').replace('{service}', endpointPrefix);
    if (host.includes('{')) continue;
    out[partition] = [host, rule.signingRegion];
  }
  return Object.keys(out).length > 0 ? out : undefined;
}

function buildService(id, model, regionConfig, stats) {
  const meta = model.metadata;
  const protocol = meta.protocol;
  const signingName = meta.signingName ?? meta.endpointPrefix;
  const iamPrefix = iamPrefixBySigningName[signingName] ?? signingName;
  const resolve = resolver(model);
  const templates = [...genericResourceTemplates, ...(resourceTemplates[id] ?? [])];
  const parsedTemplates = templates.map((entry) => ({ ...entry, placeholders: parseTemplate(entry.t), regex: entry.ops ? new RegExp(entry.ops) : undefined }));
  const usedTemplates = [];
  const templateIndex = new Map();
  const ops = {};
  for (const [name, operation] of Object.entries(model.operations).sort(([a], [b]) => a.localeCompare(b))) {
    const input = resolve(operation.input ?? { type: 'structure', members: {} });
    const members = input.members ?? {};
    const required = new Set(input.required ?? []);
    const op = {};
    const rest = protocol === 'rest-json' || protocol === 'rest-xml';
    if (rest) op.h = `${operation.http?.method ?? 'POST'} ${operation.http?.requestUri ?? '/'}`;
    // A REST body that is one member (a blob, a document) is not a JSON object of members.
    if (rest && input.payload) op.pl = 1;
    const hostPrefix = operation.endpoint?.hostPrefix;
    if (hostPrefix) op.hp = hostPrefix;
    if (isRead(name)) op.r = 1;
    const action = actionOverrides[id]?.[name];
    if (action) op.a = action;
    const versioned = versionedActions[id]?.[name];
    if (versioned) op.va = versioned;

    const wanted = new Map();
    const want = (memberName) => {
      const member = members[memberName];
      if (!member || wanted.has(memberName)) return;
      const shape = resolve(member);
      wanted.set(memberName, [memberName, locationOf(member), locationOf(member) === 'b' ? wireName(protocol, memberName, member, shape) : (member.locationName ?? memberName), kindOf(shape)]);
    };
    if (rest) for (const [memberName, member] of Object.entries(members)) if (member.location === 'uri') want(memberName);
    for (const match of (hostPrefix ?? '').matchAll(/\{([A-Za-z0-9]+)\}/g)) want(match[1]);
    const applied = [];
    parsedTemplates.forEach((template, index) => {
      if (template.regex && !template.regex.test(name)) return;
      if (!template.placeholders.every((p) => p.optional || members[p.name])) return;
      if (!template.placeholders.some((p) => members[p.name])) return;
      for (const p of template.placeholders) want(p.name);
      if (!templateIndex.has(index)) {
        templateIndex.set(index, usedTemplates.length);
        usedTemplates.push(template.t);
      }
      applied.push(templateIndex.get(index));
    });
    if (wanted.size > 0) op.m = [...wanted.values()].map((entry) => (entry[2] === entry[0] ? (entry[3] ? [entry[0], entry[1], 0, entry[3]] : [entry[0], entry[1]]) : entry.slice(0, entry[3] ? 4 : 3)));
    if (applied.length > 0) op.t = applied;
    if (rest) {
      const discriminators = [];
      for (const memberName of required) {
        const member = members[memberName];
        if (member?.location === 'querystring') discriminators.push(`q:${member.locationName ?? memberName}`);
        if (member?.location === 'header') discriminators.push(`h:${(member.locationName ?? memberName).toLowerCase()}`);
      }
      if (discriminators.length > 0) op.d = discriminators.sort();
    }
    const sensitiveIn = Object.entries(members)
      .filter(([, member]) => member.sensitive || resolve(member).sensitive)
      .map(([memberName, member]) => (member.location === 'uri' || member.location === 'querystring' || member.location === 'header' ? `${locationOf(member)}:${member.locationName ?? memberName}` : wireName(protocol, memberName, member, resolve(member))));
    if (sensitiveIn.length > 0) op.si = sensitiveIn.sort();
    const sensitiveOut = sensitivePaths(resolve, operation.output, protocol);
    if (sensitiveOut.length > 0) op.so = sensitiveOut;
    if (bodyIsData(resolve, operation.output)) op.po = 1;
    stats.operations += 1;
    if (sensitiveOut.length > 0) stats.sensitiveOperations += 1;
    ops[name] = op;
  }
  const service = { sig: signingName, ep: meta.endpointPrefix, p: protocol, v: meta.apiVersion };
  if (iamPrefix !== signingName) service.iam = iamPrefix;
  if (meta.targetPrefix) service.tp = meta.targetPrefix;
  if (meta.jsonVersion) service.jv = meta.jsonVersion;
  if (meta.xmlNamespace) service.ns = meta.xmlNamespace;
  if (meta.awsQueryCompatible) service.qc = 1;
  const global = extraGlobalEndpoints[id] ?? globalEndpoints(meta.endpointPrefix, regionConfig);
  if (global) service.g = global;
  if (usedTemplates.length > 0) service.arn = usedTemplates;
  service.ops = ops;
  return service;
}

function generate() {
  const regionConfig = JSON.parse(readFileSync(join(sdkRoot, 'lib/region_config_data.json'), 'utf8'));
  const services = {};
  const stats = { services: 0, operations: 0, sensitiveOperations: 0 };
  for (const [name, file] of latestModels()) {
    const model = JSON.parse(readFileSync(join(sdkRoot, 'apis', file), 'utf8'));
    if (!protocols.has(model.metadata.protocol)) continue;
    if (model.metadata.signatureVersion === 'bearer' || model.metadata.signatureVersion === 'v2') continue;
    const id = name.toLowerCase();
    services[id] = buildService(id, model, regionConfig, stats);
    stats.services += 1;
  }
  // One line of service metadata, then one line per service with its operations: the loader parses a service's
  // operations only when a request first needs them (JSON.parse of all 15,000 operations at once takes ~100 ms).
  const index = {};
  const lines = [];
  for (const [id, { ops, ...meta }] of Object.entries(services)) {
    index[id] = meta;
    lines.push(JSON.stringify([id, ops]));
  }
  const header = { source: `aws-sdk@${sdkVersion}`, format: 1, primary: primaryBySigningName, services: index };
  return { text: `${[JSON.stringify(header), ...lines].join('\n')}\n`, stats };
}

const { text, stats } = generate();
if (check) {
  let current = '';
  try {
    current = readFileSync(target, 'utf8');
  } catch {
    // missing counts as stale
  }
  if (current !== text) {
    console.error('libs/aws-catalogue/data/catalogue.ndjson is stale; run `npm run generate:catalogue` and commit it.');
    process.exit(1);
  }
  console.log('The AWS catalogue is up to date.');
} else {
  writeFileSync(target, text);
  console.log(`catalogue: ${stats.services} services, ${stats.operations} operations (${stats.sensitiveOperations} with sensitive output), ${(text.length / 1024).toFixed(0)} KiB`);
}
