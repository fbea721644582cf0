import type { MaskedValue } from '@airlock/contracts';

/** Distinct (rule, location) entries kept per answer; later locations of a rule are counted under `overflowLocation`. */
const maxEntries = 200;
export const overflowLocation = '(more locations)';

/**
 * What was masked in one answer, by rule and location, never the values. Locations are member paths of the answer
 * (`Functions[].Environment.Variables.API_KEY`); since member names can themselves be data, each new location is
 * passed through `clean` (the profile's detectors) before it is kept.
 */
/** Where a mask was: `key` stands for the location (equal keys, equal locations); `text` is asked for once per key. */
export interface Place {
  readonly key: number | string;
  text(): string;
}

/** The place of a body without structure, or of the top-level value. */
export const nowhere: Place = { key: '', text: () => '' };

export class Tally {
  /** By rule, then location as found; bounded by `maxEntries` (overflowing locations are not remembered). */
  readonly #found = new Map<string, Map<number | string, MaskedValue>>();
  #foundCount = 0;
  /** By rule and location as kept (cleaned, or the overflow location): what `values()` lists. */
  readonly #kept = new Map<string, MaskedValue>();
  readonly #clean: (location: string) => string;

  constructor(clean: (location: string) => string = (location) => location) {
    this.#clean = clean;
  }

  add(kind: string, rule: string, place: Place): void {
    const key = place.key;
    let byLocation = this.#found.get(rule);
    const known = byLocation?.get(key);
    if (known) {
      known.count++;
      return;
    }
    const overflow = this.#foundCount >= maxEntries;
    const kept = overflow ? overflowLocation : this.#clean(place.text());
    const keptKey = `${rule}\u0000${kept}`;
    let entry = this.#kept.get(keptKey);
    if (!entry) {
      entry = { kind, rule, location: kept, count: 0 };
      this.#kept.set(keptKey, entry);
    }
    entry.count++;
    if (overflow) return;
    if (!byLocation) {
      byLocation = new Map();
      this.#found.set(rule, byLocation);
    }
    byLocation.set(key, entry);
    this.#foundCount++;
  }

  /** Sorted by rule, then location, so that the list is the same however the answer was split. */
  values(): MaskedValue[] {
    return [...this.#kept.values()]
      .map((entry) => ({ ...entry }))
      .sort((a, b) => (a.rule === b.rule ? compare(a.location, b.location) : compare(a.rule, b.rule)));
  }
}

function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
