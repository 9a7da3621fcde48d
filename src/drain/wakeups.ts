/**
 * Waits that end early when something they depend on changes: work that
 * follows another replica's through the node's record wakes when the
 * informer sees the node change or a Lease change, and otherwise looks
 * again after a period.
 */
export class Wakeups {
  readonly #waiting = new Map<string, Set<() => void>>();

  /** Resolves on `wake(key)`, `wakeAll()`, after `ms`, or when `signal` aborts (never rejects). */
  wait(key: string, ms: number, signal: AbortSignal): Promise<void> {
    return new Promise((resolve) => {
      if (signal.aborted) return resolve();
      const set = this.#waiting.get(key) ?? new Set<() => void>();
      this.#waiting.set(key, set);
      const done = () => {
        clearTimeout(timer);
        signal.removeEventListener("abort", done);
        set.delete(done);
        if (set.size === 0 && this.#waiting.get(key) === set) this.#waiting.delete(key);
        resolve();
      };
      const timer = setTimeout(done, ms);
      timer.unref();
      signal.addEventListener("abort", done, { once: true });
      set.add(done);
    });
  }

  wake(key: string): void {
    for (const done of [...(this.#waiting.get(key) ?? [])]) done();
  }

  wakeAll(): void {
    for (const key of [...this.#waiting.keys()]) this.wake(key);
  }
}
