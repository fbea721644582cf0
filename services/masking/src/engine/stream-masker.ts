import type { MaskedValue } from '@airlock/contracts';
import { replacementFor, type Detector } from './detector.js';

/** Masks one stream, chunk by chunk, holding back only what a later chunk could still change. */
export interface StreamMasker {
  /** Masks what can be decided so far and returns it; the rest waits for the next chunk or `end()`. */
  push(chunk: Uint8Array): Buffer;
  /** Ends the stream and returns whatever was held back, masked. */
  end(): Buffer;
  /** Counts of masked values by kind so far (never the values), sorted by kind. */
  masked(): MaskedValue[];
}

/**
 * The stream is scanned left to right for detector prefixes; where one occurs, detectors are tried in order, a match is
 * replaced and scanning resumes after it. The result is the same however the input is split, because a position is
 * decided only when the stream has ended or its detector's whole `window` is known; until then the text from that
 * position on is held back (at most the largest window). Text without any prefix is held back by less than one prefix.
 *
 * Bytes are handled as latin1 text, one character per byte: the patterns are ASCII, other bytes pass unchanged, and a
 * UTF-8 character split between chunks is never an issue.
 */
export function createStreamMasker(detectors: readonly Detector[]): StreamMasker {
  const prefixes = [...new Set(detectors.flatMap((detector) => detector.prefixes))];
  const longestPrefix = Math.max(0, ...prefixes.map((prefix) => prefix.length));
  // Case-insensitive here so that one scan finds every candidate; each detector then checks its own case rule.
  const prefixScan = prefixes.length > 0 ? new RegExp(prefixes.map(escapeRegExp).join('|'), 'gi') : undefined;
  const counts = new Map<string, number>();
  /** The last character already passed on: what a lookbehind at the start of `carry` must see. */
  let before = '';
  /** Characters not yet decided. */
  let carry = '';
  let ended = false;

  function run(chunk: string, final: boolean): Buffer {
    const text = before + carry + chunk;
    const start = before.length;
    const out: string[] = [];
    let emitted = start;
    // Where a prefix could still be completing, nothing is decided until the stream goes on or ends.
    let holdFrom = final ? text.length : Math.max(start, text.length - (longestPrefix - 1));
    if (prefixScan) {
      prefixScan.lastIndex = start;
      for (let found = prefixScan.exec(text); found && found.index < holdFrom; found = prefixScan.exec(text)) {
        const at = found.index;
        const outcome = tryAt(text, at, final);
        if (outcome === 'undecided') {
          holdFrom = at;
          break;
        }
        if (outcome === undefined) {
          prefixScan.lastIndex = at + 1;
          continue;
        }
        out.push(text.slice(emitted, at), outcome.replacement);
        emitted = outcome.end;
        counts.set(outcome.kind, (counts.get(outcome.kind) ?? 0) + 1);
        prefixScan.lastIndex = outcome.end;
      }
    }
    const decided = Math.max(emitted, holdFrom);
    out.push(text.slice(emitted, decided));
    carry = text.slice(decided);
    before = decided > 0 ? text.slice(decided - 1, decided) : before;
    return Buffer.from(out.join(''), 'latin1');
  }

  /** A match at `at`, no match (undefined), or 'undecided' when more text could change the answer. */
  function tryAt(text: string, at: number, final: boolean): { kind: string; end: number; replacement: string } | 'undecided' | undefined {
    for (const detector of detectors) {
      if (!detector.prefixes.some((prefix) => startsWith(text, at, prefix, detector.ignoreCase))) continue;
      if (!final && at + detector.window > text.length) return 'undecided';
      detector.pattern.lastIndex = at;
      const match = detector.pattern.exec(text);
      if (match) {
        return { kind: detector.kind, end: at + match[0].length, replacement: (match[1] ?? '') + replacementFor(detector.kind) };
      }
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
      return [...counts].sort(([a], [b]) => (a < b ? -1 : 1)).map(([kind, count]) => ({ kind, count }));
    },
  };
}

function startsWith(text: string, at: number, prefix: string, ignoreCase: boolean): boolean {
  const candidate = text.slice(at, at + prefix.length);
  return ignoreCase ? candidate.toLowerCase() === prefix.toLowerCase() : candidate === prefix;
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\/-]/g, '\\$&');
}
