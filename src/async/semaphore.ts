/**
 * A counting semaphore: the queue consumer's worker slots and held messages,
 * the drain engine's max-concurrent-drains. Waiters are served first come,
 * first served, and each `give` wakes only as many as it can serve, so a
 * thousand waiters cost one wake-up each, not one per `give`. An aborted
 * wait takes nothing and leaves the queue.
 */

interface Waiter {
  readonly max: number;
  resolve(n: number): void;
}

export class Semaphore {
  #free: number;
  #size: number;
  readonly #waiters: Waiter[] = [];

  constructor(size: number) {
    if (!Number.isInteger(size) || size < 1)
      throw new RangeError(`slot count ${size} must be >= 1`);
    this.#free = size;
    this.#size = size;
  }

  /** Slots in all, taken or free. */
  get size(): number {
    return this.#size;
  }

  /**
   * Changes the number of slots. Shrinking takes nothing back from holders:
   * `free` goes below zero and new takers wait until enough was given back.
   */
  resize(size: number): void {
    if (!Number.isInteger(size) || size < 1)
      throw new RangeError(`slot count ${size} must be >= 1`);
    const delta = size - this.#size;
    this.#size = size;
    this.give(delta);
  }

  /** Free slots right now. */
  get free(): number {
    return this.#free;
  }

  /** Callers waiting for a slot right now. */
  get waiting(): number {
    return this.#waiters.length;
  }

  /**
   * Takes between 1 and `max` slots, waiting until at least one is free.
   * Resolves 0 (and takes nothing) when `signal` aborts first.
   */
  take(max: number, signal: AbortSignal): Promise<number> {
    if (signal.aborted) return Promise.resolve(0);
    if (this.#free > 0 && this.#waiters.length === 0) {
      const n = Math.min(max, this.#free);
      this.#free -= n;
      return Promise.resolve(n);
    }
    return new Promise((resolve) => {
      const onAbort = () => {
        const i = this.#waiters.indexOf(waiter);
        if (i !== -1) this.#waiters.splice(i, 1);
        resolve(0);
      };
      const waiter: Waiter = {
        max,
        resolve: (n) => {
          signal.removeEventListener("abort", onAbort);
          resolve(n);
        },
      };
      signal.addEventListener("abort", onAbort, { once: true });
      this.#waiters.push(waiter);
    });
  }

  /** Takes one slot; rejects with the signal's reason when it aborts first. */
  async acquire(signal: AbortSignal): Promise<void> {
    if ((await this.take(1, signal)) === 0) throw signal.reason;
  }

  give(n: number): void {
    this.#free += n;
    if (n <= 0) return;
    while (this.#free > 0) {
      const w = this.#waiters.shift();
      if (w === undefined) return;
      const got = Math.min(w.max, this.#free);
      this.#free -= got;
      w.resolve(got);
    }
  }
}
