/**
 * Micro-batching: requests made within a short window (or until a batch is
 * full) become one AWS call. When 1,000 Spot warnings arrive at once this
 * turns 1,000 DescribeInstances or DeleteMessage calls into tens, which keeps
 * nthd under AWS's API rate limits without slowing the first message down
 * by more than the window.
 */

/** Splits a list into consecutive pieces of at most `size` items. */
export function chunk<T>(items: readonly T[], size: number): T[][] {
  if (!Number.isInteger(size) || size < 1) throw new RangeError(`chunk size ${size} must be >= 1`);
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}

export interface BatcherOptions<K, V> {
  /** Carries out one batch; answers one value per key it knows (missing keys get `undefined`). */
  readonly run: (keys: K[]) => Promise<Map<K, V>>;
  /** Largest batch one call may carry (an AWS limit). */
  readonly maxSize: number;
  /** How long the first request waits for company. */
  readonly windowMs: number;
}

interface Waiter<V> {
  resolve(value: V | undefined): void;
  reject(err: unknown): void;
}

/**
 * Collects keys and runs them in batches. Requests for the same key while it
 * is queued share one slot. A failing batch rejects every request in it.
 */
export class Batcher<K, V> {
  readonly #opts: BatcherOptions<K, V>;
  #pending = new Map<K, Waiter<V>[]>();
  #timer: ReturnType<typeof setTimeout> | undefined;

  constructor(opts: BatcherOptions<K, V>) {
    this.#opts = opts;
  }

  get(key: K): Promise<V | undefined> {
    return new Promise((resolve, reject) => {
      const waiters = this.#pending.get(key);
      if (waiters !== undefined) waiters.push({ resolve, reject });
      else this.#pending.set(key, [{ resolve, reject }]);
      if (this.#pending.size >= this.#opts.maxSize) this.flush();
      else this.#timer ??= setTimeout(() => this.flush(), this.#opts.windowMs);
    });
  }

  /** Sends everything queued now, in as many batches as needed. */
  flush(): void {
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.#timer = undefined;
    const pending = this.#pending;
    this.#pending = new Map();
    for (const keys of chunk([...pending.keys()], this.#opts.maxSize)) {
      void this.#runBatch(keys, pending);
    }
  }

  async #runBatch(keys: K[], pending: Map<K, Waiter<V>[]>): Promise<void> {
    try {
      const results = await this.#opts.run(keys);
      for (const key of keys) for (const w of pending.get(key) ?? []) w.resolve(results.get(key));
    } catch (err) {
      for (const key of keys) for (const w of pending.get(key) ?? []) w.reject(err);
    }
  }
}
