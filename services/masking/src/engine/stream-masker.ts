import type { MaskedValue } from '@airlock/contracts';
import { replacementFor, type Detector } from './detector.js';
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
  prefixScan: RegExp | undefined;
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
    // One scan finds every candidate; each detector then checks its own case rule. The prefixes are one alternation
    // factored as a trie (`s(?:ecret|k_live_)`), and those of case-insensitive detectors are spelled as character
    // classes ([Pp][Aa]…) rather than with the `i` flag: measured on JSON answers, each makes the scan 15–30 % faster.
    prefixScan: prefixes.length > 0 ? new RegExp(alternation(prefixes.map((prefix) => regexUnits(prefix, caseless.has(prefix)))), 'g') : undefined,
  };
  scans.set(detectors, scan);
  return scan;
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
): StreamMasker {
  const { longestPrefix, maxBack, context } = scanFor(detectors);
  // A copy per stream: lastIndex is state.
  const shared = scanFor(detectors).prefixScan;
  const prefixScan = shared ? new RegExp(shared) : undefined;
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
    if (prefixScan) {
      prefixScan.lastIndex = start + scanFrom;
      for (let found = prefixScan.exec(text); found && found.index < scanUntil; found = prefixScan.exec(text)) {
        const at = found.index;
        const outcome = tryAt(text, at, emitted, final);
        if (outcome === 'undecided') {
          undecidedAt = at;
          scanUntil = at;
          break;
        }
        if (outcome === undefined) {
          prefixScan.lastIndex = at + 1;
          continue;
        }
        out.push(text.slice(emitted, outcome.start), outcome.replacement);
        emitted = outcome.end;
        const place = where ? where.locate(carryAt + outcome.start - start) : nowhere;
        tally.add(outcome.kind, outcome.rule, place.key, place.text);
        prefixScan.lastIndex = outcome.end;
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
    return Buffer.from(out.join(''), 'latin1');
  }

  /** A match around `at`, no match (undefined), or 'undecided' when more text could change the answer. */
  function tryAt(
    text: string,
    at: number,
    floor: number,
    final: boolean,
  ): { kind: string; rule: string; start: number; end: number; replacement: string } | 'undecided' | undefined {
    for (const detector of detectors) {
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
    end() {
      if (ended) return Buffer.alloc(0);
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

function startsWith(text: string, at: number, prefix: string, ignoreCase: boolean): boolean {
  const candidate = text.slice(at, at + prefix.length);
  return ignoreCase ? candidate.toLowerCase() === prefix.toLowerCase() : candidate === prefix;
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
