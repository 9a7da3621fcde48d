/**
 * A map whose entries lapse after their own time to live, and which forgets
 * lapsed entries instead of keeping them until they are asked for again.
 *
 * Why forgetting matters: the instance directory caches EC2's answers about
 * every instance a notice or the primer named. On a Spot fleet instances come
 * and go every day, and an answer about a terminated instance is never asked
 * for again; kept until read, such answers would pile up for months on a
 * long-lived replica. Swept, the cache holds about the instances seen within
 * one time to live: the cluster's own (primed) plus recent notices'.
 *
 * Pure: the clock is passed in.
 */

export interface ExpiringCacheOptions {
  readonly now: () => number;
  /** Lapsed entries are swept out at most this often (on a write). */
  readonly sweepEveryMs: number;
  /**
   * Hard cap on live entries, for a storm of notices about instances no one
   * will ask for again: past it, the entries written longest ago are dropped.
   */
  readonly maxEntries: number;
}

interface Entry<V> {
  readonly value: V;
  readonly until: number;
}

export class ExpiringCache<K, V> {
  readonly #opts: ExpiringCacheOptions;
  // Insertion order is write order (set deletes first), so the oldest write comes first.
  readonly #entries = new Map<K, Entry<V>>();
  #sweptAt: number;

  constructor(opts: ExpiringCacheOptions) {
    if (!(opts.maxEntries >= 1)) throw new RangeError(`maxEntries ${opts.maxEntries} must be >= 1`);
    this.#opts = opts;
    this.#sweptAt = opts.now();
  }

  /** The live entry for `key`: `{ value }`, or undefined when missing or lapsed. */
  get(key: K): { value: V } | undefined {
    const e = this.#entries.get(key);
    if (e === undefined) return undefined;
    if (e.until <= this.#opts.now()) {
      this.#entries.delete(key);
      return undefined;
    }
    return { value: e.value };
  }

  /** Milliseconds `key` stays live; 0 when missing or lapsed. */
  remainingMs(key: K): number {
    const e = this.#entries.get(key);
    return e === undefined ? 0 : Math.max(0, e.until - this.#opts.now());
  }

  set(key: K, value: V, ttlMs: number): void {
    const now = this.#opts.now();
    if (now - this.#sweptAt >= this.#opts.sweepEveryMs) this.sweep();
    this.#entries.delete(key);
    this.#entries.set(key, { value, until: now + ttlMs });
    for (const oldest of this.#entries.keys()) {
      if (this.#entries.size <= this.#opts.maxEntries) break;
      this.#entries.delete(oldest);
    }
  }

  /** Forgets every lapsed entry now. */
  sweep(): void {
    const now = this.#opts.now();
    this.#sweptAt = now;
    for (const [key, e] of this.#entries) if (e.until <= now) this.#entries.delete(key);
  }

  /** Entries held, lapsed ones not yet swept included. */
  get size(): number {
    return this.#entries.size;
  }
}
