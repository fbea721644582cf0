import { AirlockError } from '@airlock/errors';

interface Entry {
  value: string;
  /** Wall-clock ms, so that it still means the same after a reload. */
  expiresAt?: number;
}

export type SnapshotEntry = [key: string, value: string, expiresAt: number | null];

const SWEEP_INTERVAL_MS = 30_000;

/**
 * The state itself. Every operation runs synchronously to completion, so compare-and-set and increment are atomic
 * without locks; expired entries are dropped when touched and by a periodic sweep.
 */
export class MemoryState {
  private readonly entries = new Map<string, Entry>();
  private readonly sweeper: NodeJS.Timeout;

  constructor(
    initial: SnapshotEntry[],
    private readonly onChange: () => void,
  ) {
    const now = Date.now();
    for (const [key, value, expiresAt] of initial) {
      if (expiresAt === null) this.entries.set(key, { value });
      else if (expiresAt > now) this.entries.set(key, { value, expiresAt });
    }
    this.sweeper = setInterval(() => this.sweep(), SWEEP_INTERVAL_MS);
    this.sweeper.unref();
  }

  get(key: string): string | null {
    return this.live(key, Date.now())?.value ?? null;
  }

  set(key: string, value: string, ttlMs: number | undefined, onlyIfAbsent: boolean): boolean {
    const now = Date.now();
    if (onlyIfAbsent && this.live(key, now)) return false;
    this.write(key, value, ttlMs, now);
    return true;
  }

  compareAndSet(key: string, expected: string | null, value: string, ttlMs: number | undefined): boolean {
    const now = Date.now();
    const current = this.live(key, now)?.value ?? null;
    if (current !== expected) return false;
    this.write(key, value, ttlMs, now);
    return true;
  }

  delete(key: string): void {
    if (this.entries.delete(key)) this.onChange();
  }

  increment(key: string, ttlMs: number | undefined): number {
    const now = Date.now();
    const current = this.live(key, now);
    const n = current === undefined ? 0 : Number(current.value);
    if (current !== undefined && (!/^-?\d+$/.test(current.value) || !Number.isSafeInteger(n))) {
      throw new AirlockError('InvalidRequest', 'The value is not an integer (increment).');
    }
    const expiresAt = current?.expiresAt ?? (ttlMs === undefined ? undefined : now + ttlMs);
    this.entries.set(key, expiresAt === undefined ? { value: String(n + 1) } : { value: String(n + 1), expiresAt });
    this.onChange();
    return n + 1;
  }

  keys(prefix: string): string[] {
    const now = Date.now();
    return [...this.entries.keys()].filter((key) => key.startsWith(prefix) && this.live(key, now));
  }

  snapshot(): SnapshotEntry[] {
    const now = Date.now();
    const out: SnapshotEntry[] = [];
    for (const [key, entry] of this.entries) {
      if (entry.expiresAt === undefined) out.push([key, entry.value, null]);
      else if (entry.expiresAt > now) out.push([key, entry.value, entry.expiresAt]);
    }
    return out;
  }

  stop(): void {
    clearInterval(this.sweeper);
  }

  private live(key: string, now: number): Entry | undefined {
    const entry = this.entries.get(key);
    if (entry?.expiresAt !== undefined && entry.expiresAt <= now) {
      // Expiry needs no write: a reload drops expired entries anyway.
      this.entries.delete(key);
      return undefined;
    }
    return entry;
  }

  private write(key: string, value: string, ttlMs: number | undefined, now: number): void {
    this.entries.set(key, ttlMs === undefined ? { value } : { value, expiresAt: now + ttlMs });
    this.onChange();
  }

  private sweep(): void {
    const now = Date.now();
    for (const key of this.entries.keys()) this.live(key, now);
  }
}
