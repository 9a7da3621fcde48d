/**
 * Wakes a waiting retry early: each nudge aborts the current round's
 * signal and starts a new round. Waiters combine the signal with their own
 * (AbortSignal.any), so nothing accumulates while nobody nudges.
 */
export class Nudge {
  #round = new AbortController();

  /** Aborts at the next nudge. */
  get signal(): AbortSignal {
    return this.#round.signal;
  }

  nudge(): void {
    const round = this.#round;
    this.#round = new AbortController();
    round.abort();
  }
}
