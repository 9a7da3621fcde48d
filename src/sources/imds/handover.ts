/**
 * Remembers which events a monitor has handed to the engine, so a metadata
 * item that stays the same for hours becomes one notice, not one per poll.
 * IMDS keeps serving an event until it is gone; only a successful poll may
 * tell the ledger what is current, so a failed poll never forgets anything.
 */

type Entry = "in-flight" | "done";

export class HandoverLedger {
  readonly #entries = new Map<string, Entry>();

  /**
   * Given everything one successful poll returned (as key + item), returns
   * the items to hand over now and marks them in flight. Done keys that are
   * no longer served are forgotten: if the event comes back, it is new.
   */
  select<T>(current: ReadonlyArray<{ key: string; item: T }>): { key: string; item: T }[] {
    const served = new Set(current.map((c) => c.key));
    for (const [key, entry] of this.#entries) {
      if (entry === "done" && !served.has(key)) this.#entries.delete(key);
    }
    const fresh: { key: string; item: T }[] = [];
    for (const c of current) {
      if (this.#entries.has(c.key) || fresh.some((f) => f.key === c.key)) continue;
      this.#entries.set(c.key, "in-flight");
      fresh.push(c);
    }
    return fresh;
  }

  /** The engine's answer: `done` (handled or ignored) or `retry` (hand over again later). */
  settle(key: string, result: "done" | "retry"): void {
    if (result === "done") this.#entries.set(key, "done");
    else this.#entries.delete(key);
  }

  /** Keys and states, for logs and tests. */
  snapshot(): Record<string, Entry> {
    return Object.fromEntries(this.#entries);
  }
}
