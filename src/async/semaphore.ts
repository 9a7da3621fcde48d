/**
 * A counting semaphore: the queue consumer's worker slots and held messages,
 * the drain engine's max-concurrent-drains. Waiters are served first come,
 * first served, and each `give` wakes only as many as it can serve, so a
 * thousand waiters cost one wake-up each, not one per `give`. An aborted
 * wait takes nothing and leaves the queue.
 *
 * A taker may ask for a batch (`atLeast`): it is served once that many slots
 * are free, or `lingerMs` after the first one was, whichever comes first.
 * The queue consumer gathers its slots this way, so that when they are
 * scarce (a mass interruption) each ReceiveMessage brings up to ten
 * messages instead of the one that happened to be free.
 */

export interface BatchTake {
  /** Slots to wait for (capped at the semaphore's size). */
  readonly atLeast: number;
  /** Longest wait for the batch once a first slot is free. */
  readonly lingerMs: number;
}

interface Waiter {
  readonly max: number;
  /** Slots this waiter waits for; drops to 1 when its linger runs out. */
  min: number;
  readonly lingerMs: number;
  linger: ReturnType<typeof setTimeout> | undefined;
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
   * Takes between 1 and `max` slots, waiting until at least one is free
   * (with `batch`: until its batch is, or its linger has run out).
   * Resolves 0 (and takes nothing) when `signal` aborts first.
   */
  take(max: number, signal: AbortSignal, batch?: BatchTake): Promise<number> {
    if (signal.aborted) return Promise.resolve(0);
    const min = Math.max(1, Math.min(batch?.atLeast ?? 1, max));
    if (this.#waiters.length === 0 && this.#free >= Math.min(min, this.#size)) {
      const n = Math.min(max, this.#free);
      this.#free -= n;
      return Promise.resolve(n);
    }
    return new Promise((resolve) => {
      const onAbort = () => {
        const i = this.#waiters.indexOf(waiter);
        if (i !== -1) this.#waiters.splice(i, 1);
        clearTimeout(waiter.linger);
        resolve(0);
        // The aborted waiter may have held back others behind its batch.
        this.#serve();
      };
      const waiter: Waiter = {
        max,
        min,
        lingerMs: batch?.lingerMs ?? 0,
        linger: undefined,
        resolve: (n) => {
          signal.removeEventListener("abort", onAbort);
          clearTimeout(waiter.linger);
          resolve(n);
        },
      };
      signal.addEventListener("abort", onAbort, { once: true });
      this.#waiters.push(waiter);
      this.#serve();
    });
  }

  /** Takes one slot; rejects with the signal's reason when it aborts first. */
  async acquire(signal: AbortSignal): Promise<void> {
    if ((await this.take(1, signal)) === 0) throw signal.reason;
  }

  give(n: number): void {
    this.#free += n;
    if (n > 0) this.#serve();
  }

  /** Serves waiters in order while the first one's need is met. */
  #serve(): void {
    while (this.#free > 0) {
      const w = this.#waiters[0];
      if (w === undefined) return;
      if (this.#free < Math.min(w.min, this.#size)) {
        // A batch is gathering: its linger starts with its first free slot.
        w.linger ??= setTimeout(() => {
          w.min = 1;
          this.#serve();
        }, w.lingerMs);
        return;
      }
      this.#waiters.shift();
      const got = Math.min(w.max, this.#free);
      this.#free -= got;
      w.resolve(got);
    }
  }
}
