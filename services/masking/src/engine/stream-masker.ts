import type { MaskedValue } from '@airlock/contracts';
import { replacementFor, type Detector } from './detector.js';
import { noBytes } from './structured.js';
import { nowhere, Tally, type Place } from './tally.js';

/** Masks one stream, chunk by chunk, holding back only what a later chunk could still change. */
export interface StreamMasker {
  /** Masks what can be decided so far and returns it; the rest waits for the next chunk or `end()`. */
  push(chunk: Uint8Array): Buffer;
  /** Ends the stream and returns whatever was held back, masked. */
  end(): Buffer;
  /** What was masked so far, by rule and location (never the values). */
  masked(): MaskedValue[];
}

/** A stream masker that also takes latin1 text (one character per byte), as a field-rule stage before it hands on. */
export interface TextStreamMasker extends StreamMasker {
  pushText(text: string): Buffer;
}

/** Turns a matched secret into its replacement text (redact, keep-last-N, pseudonym); the default redacts. */
export type Replace = (kind: string, secret: string) => string;

/** Where in the stream's structure an input offset lies (a field-rule stage before the detectors knows). */
export interface Locator {
  locate(offset: number): Place;
  /** Offsets before this will not be asked about again. */
  forget(offset: number): void;
}

interface Scan {
  longestPrefix: number;
  maxBack: number;
  context: number;
  /** Regular expressions that together find every prefix (see prefixScans). */
  prefixScans: readonly RegExp[];
  /** By the character a prefix starts with: the detectors that may match there, in the order they are tried. */
  byFirstChar: ReadonlyMap<number, readonly Detector[]>;
}
/** Compiled once per detector list (profiles are constants). */
const scans = new WeakMap<readonly Detector[], Scan>();
function scanFor(detectors: readonly Detector[]): Scan {
  const known = scans.get(detectors);
  if (known) return known;
  const prefixes = [...new Set(detectors.flatMap((detector) => detector.prefixes))];
  const maxBack = Math.max(0, ...detectors.map((detector) => detector.back?.max ?? 0));
  const caseless = new Set(detectors.filter((detector) => detector.ignoreCase).flatMap((detector) => detector.prefixes));
  const scan: Scan = {
    longestPrefix: Math.max(0, ...prefixes.map((prefix) => prefix.length)),
    maxBack,
    context: Math.max(1, maxBack, ...detectors.map((detector) => detector.lookbehind ?? 1)),
    prefixScans: prefixScans(prefixes.map((prefix) => regexUnits(prefix, caseless.has(prefix)))),
    byFirstChar: byFirstChar(detectors),
  };
  scans.set(detectors, scan);
  return scan;
}

function byFirstChar(detectors: readonly Detector[]): Map<number, Detector[]> {
  const map = new Map<number, Detector[]>();
  for (const detector of detectors) {
    const firsts = new Set(detector.prefixes.flatMap((prefix) => (detector.ignoreCase ? [prefix[0]!.toLowerCase(), prefix[0]!.toUpperCase()] : [prefix[0]!])));
    for (const first of firsts) map.set(first.charCodeAt(0), [...(map.get(first.charCodeAt(0)) ?? []), detector]);
  }
  return map;
}

/** Most distinct first characters one prefix expression may start with (see prefixScans). */
const firstCharsPerScan = 4;

/**
 * The prefixes as a few regular expressions, each an alternation factored as a trie (`s(?:ecret|k_live_)`), with
 * case-insensitive prefixes spelled as character classes ([Pp][Aa]…) rather than with the `i` flag. Prefixes are
 * grouped by first character so that no expression can start with more than a few characters: V8 then skips through
 * text that cannot start a match instead of trying every alternative at every position. Measured on JSON answers:
 * one expression over all 13 first characters scans ≈2.9 ms/MB, groups of four together ≈1.2 ms/MB.
 */
function prefixScans(prefixes: readonly string[][]): RegExp[] {
  const byFirst = new Map<string, string[][]>();
  for (const units of prefixes) {
    const first = units[0] ?? '';
    byFirst.set(first, [...(byFirst.get(first) ?? []), units]);
  }
  const groups: string[][][] = [];
  let group: string[][] = [];
  let chars = 0;
  for (const [first, members] of byFirst) {
    const width = first.startsWith('[') ? first.length - 2 : 1;
    if (group.length > 0 && chars + width > firstCharsPerScan) {
      groups.push(group);
      group = [];
      chars = 0;
    }
    group.push(...members);
    chars += width;
  }
  if (group.length > 0) groups.push(group);
  return groups.map((members) => new RegExp(alternation(members), 'g'));
}

/**
 * The next prefix at or after a position, over several expressions: each remembers where its next match is, so that
 * text is searched once per expression however many candidates are looked at. Positions asked for only grow between
 * `reset`s.
 */
class PrefixFinder {
  readonly #scans: readonly RegExp[];
  /** Per expression: its next match at or after the last position asked for; -1 none; -2 not searched yet. */
  readonly #next: number[];
  #text = '';

  constructor(scans: readonly RegExp[]) {
    // Shared by every stream of the profile: lastIndex is set before each use, and a run never yields in between.
    this.#scans = scans;
    this.#next = scans.map(() => -2);
  }

  reset(text: string): void {
    this.#text = text;
    this.#next.fill(-2);
  }

  /** The index of the next prefix at or after `from`, or -1. */
  find(from: number): number {
    let best = -1;
    for (let k = 0; k < this.#scans.length; k++) {
      let at = this.#next[k]!;
      if (at === -2 || (at >= 0 && at < from)) {
        const scan = this.#scans[k]!;
        scan.lastIndex = from;
        at = scan.exec(this.#text)?.index ?? -1;
        this.#next[k] = at;
      }
      if (at >= 0 && (best < 0 || at < best)) best = at;
    }
    return best;
  }
}

/**
 * The stream is scanned left to right for detector prefixes; where one occurs, detectors are tried in order, a match is
 * replaced and scanning resumes after it. The result is the same however the input is split, because a position is
 * decided only when the stream has ended or its detector's whole `window` is known; until then the text from that
 * position on is held back (at most the largest window, plus the largest `back`). Lookbehinds see the same text in
 * every split because the last `lookbehind` characters already passed on are kept as context.
 *
 * Bytes are handled as latin1 text, one character per byte: the patterns are ASCII, other bytes pass unchanged, and a
 * UTF-8 character split between chunks is never an issue.
 */
export function createStreamMasker(
  detectors: readonly Detector[],
  replace: Replace = (kind) => replacementFor(kind),
  where?: Locator,
  tally: Tally = new Tally(),
): TextStreamMasker {
  const { longestPrefix, maxBack, context, prefixScans: scans, byFirstChar: candidatesAt } = scanFor(detectors);
  const prefixes = scans.length > 0 ? new PrefixFinder(scans) : undefined;
  /** Absolute input offset of carry[0]. */
  let carryAt = 0;
  /** The last characters already passed on: what lookbehinds at the start of `carry` must see. */
  let before = '';
  /** Characters not yet decided. */
  let carry = '';
  /** Where in `carry` scanning resumes: prefixes before it (held back only as look-back room) are decided already. */
  let scanFrom = 0;
  let ended = false;

  function run(chunk: string, final: boolean): Buffer {
    const text = before + carry + chunk;
    const start = before.length;
    const out: string[] = [];
    let emitted = start;
    // Where a prefix could still be completing, nothing is decided until the stream goes on or ends.
    let scanUntil = final ? text.length : Math.max(start, text.length - (longestPrefix - 1));
    let undecidedAt: number | undefined;
    if (prefixes) {
      prefixes.reset(text);
      for (let at = prefixes.find(start + scanFrom); at >= 0 && at < scanUntil; ) {
        const outcome = tryAt(text, at, emitted, final);
        if (outcome === 'undecided') {
          undecidedAt = at;
          scanUntil = at;
          break;
        }
        if (outcome === undefined) {
          at = prefixes.find(at + 1);
          continue;
        }
        out.push(text.slice(emitted, outcome.start), outcome.replacement);
        emitted = outcome.end;
        const place = where ? where.locate(carryAt + outcome.start - start) : nowhere;
        tally.add(outcome.kind, outcome.rule, place);
        at = prefixes.find(outcome.end);
      }
    }
    // Text a later match could still reach back into (an e-mail's local part) is held back with the undecided rest.
    // Prefixes in it were decided already; scanning them again next time decides them the same way.
    const holdFrom = final ? text.length : Math.max(emitted, (undecidedAt ?? scanUntil) - maxBack);
    const decided = Math.max(emitted, holdFrom);
    out.push(text.slice(emitted, decided));
    carry = text.slice(decided);
    carryAt += decided - start;
    where?.forget(carryAt);
    scanFrom = Math.max(0, scanUntil - decided);
    before = text.slice(Math.max(0, decided - context), decided);
    return slabs.bytes(out.join(''));
  }

  /** A match around `at`, no match (undefined), or 'undecided' when more text could change the answer. */
  function tryAt(
    text: string,
    at: number,
    floor: number,
    final: boolean,
  ): { kind: string; rule: string; start: number; end: number; replacement: string } | 'undecided' | undefined {
    for (const detector of candidatesAt.get(text.charCodeAt(at)) ?? noDetectors) {
      if (!detector.prefixes.some((prefix) => startsWith(text, at, prefix, detector.ignoreCase))) continue;
      if (detector.head) {
        if (!final && at + detector.head.window > text.length) return 'undecided';
        detector.head.pattern.lastIndex = at;
        if (!detector.head.pattern.test(text)) continue;
      }
      if (!final && at + detector.window > text.length) return 'undecided';
      let from = at;
      if (detector.back) {
        const limit = Math.max(floor, at - detector.back.max);
        while (from > limit && detector.back.chars.test(text[from - 1]!)) from--;
      }
      detector.pattern.lastIndex = from;
      const match = detector.pattern.exec(text);
      if (!match || from + match[0].length <= at) continue;
      const keepHead = match[1] ?? '';
      const keepTail = match[2] ?? '';
      const secret = match[0].slice(keepHead.length, match[0].length - keepTail.length);
      if (detector.accept && !detector.accept(secret)) continue;
      return {
        kind: detector.kind,
        rule: detectorRule(detector),
        start: from,
        end: from + match[0].length,
        replacement: keepHead + replace(detector.kind, secret) + keepTail,
      };
    }
    return undefined;
  }

  return {
    push(chunk) {
      if (ended) throw new Error('push after end');
      return run(Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength).toString('latin1'), false);
    },
    pushText(text) {
      if (ended) throw new Error('push after end');
      return run(text, false);
    },
    end() {
      if (ended) return noBytes;
      ended = true;
      const rest = run('', true);
      carry = '';
      return rest;
    },
    masked() {
      return tally.values();
    },
  };
}

/** Bytes written per allocation (see Slabs). */
const slabSize = 256 * 1024;

/**
 * Large output chunks are written into slabs shared by every stream (one thread writes them, one chunk at a time):
 * allocating a fresh 64 KiB buffer per chunk cost more than masking it (page faults on new memory, measured at 1 MB
 * answers). A slab stays alive while any chunk written into it does; only chunks of at least an eighth of a slab go
 * there, so a chunk that outlives its neighbours keeps at most eight times its own size alive. Smaller ones are
 * allocated as usual (Node pools the smallest).
 */
class Slabs {
  #slab: Buffer = noBytes;
  #used = 0;

  bytes(text: string): Buffer {
    if (text.length === 0) return noBytes;
    if (text.length < slabSize / 8 || text.length > slabSize / 2) return Buffer.from(text, 'latin1');
    if (this.#slab.length - this.#used < text.length) {
      this.#slab = Buffer.allocUnsafeSlow(slabSize);
      this.#used = 0;
    }
    const start = this.#used;
    this.#used += this.#slab.write(text, start, text.length, 'latin1');
    return this.#slab.subarray(start, this.#used);
  }
}

const slabs = new Slabs();
const noDetectors: readonly Detector[] = [];

const detectorRules = new WeakMap<Detector, string>();
/** How a detector is named in mask events: `detector:<kind>`. */
function detectorRule(detector: Detector): string {
  let name = detectorRules.get(detector);
  if (name === undefined) {
    name = `detector:${detector.kind}`;
    detectorRules.set(detector, name);
  }
  return name;
}

/** Whether `text` has `prefix` at `at`; ignoring ASCII case when asked (prefixes are ASCII). Allocates nothing. */
function startsWith(text: string, at: number, prefix: string, ignoreCase: boolean): boolean {
  if (!ignoreCase) return text.startsWith(prefix, at);
  if (at + prefix.length > text.length) return false;
  for (let k = 0; k < prefix.length; k++) {
    if (lowerAscii(text.charCodeAt(at + k)) !== lowerAscii(prefix.charCodeAt(k))) return false;
  }
  return true;
}

function lowerAscii(code: number): number {
  return code >= 0x41 && code <= 0x5a ? code + 0x20 : code;
}

/** A literal as regex units, one per character: the escaped character, or `[xX]` when case does not matter. */
function regexUnits(text: string, ignoreCase: boolean): string[] {
  return [...text].map((char) => (ignoreCase && char.toLowerCase() !== char.toUpperCase() ? `[${char.toLowerCase()}${char.toUpperCase()}]` : escapeRegExp(char)));
}

/** An alternation of literals (as regex units) with common beginnings factored out. */
function alternation(literals: readonly string[][]): string {
  interface Node {
    children: Map<string, Node>;
    end: boolean;
  }
  const root: Node = { children: new Map(), end: false };
  for (const units of literals) {
    let node = root;
    for (const unit of units) {
      let child = node.children.get(unit);
      if (!child) node.children.set(unit, (child = { children: new Map(), end: false }));
      node = child;
    }
    node.end = true;
  }
  const render = (node: Node): string => {
    const branches = [...node.children].map(([unit, child]) => unit + render(child));
    if (branches.length === 0) return '';
    if (branches.length === 1 && !node.end) return branches[0]!;
    return `(?:${branches.join('|')})${node.end ? '?' : ''}`;
  };
  return render(root);
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\/-]/g, '\\$&');
}
