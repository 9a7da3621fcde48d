/**
 * A drain's deadline as a signal that aborts when it is reached. It can only
 * move earlier: a notice that joins a running drain with a sooner deadline
 * (a Spot interruption during a scheduled-maintenance drain) tightens it.
 */
export interface Deadline {
  at(): Date;
  /** Aborts when the deadline is reached. */
  readonly signal: AbortSignal;
  /** Moves the deadline earlier; a later date is ignored. */
  tighten(at: Date): void;
  /** Stops the timer (drain over). */
  dispose(): void;
}

export function createDeadline(at: Date, clock: () => Date): Deadline {
  let current = at;
  const ctl = new AbortController();
  let timer: NodeJS.Timeout | undefined;

  const arm = () => {
    if (timer) clearTimeout(timer);
    timer = undefined;
    if (ctl.signal.aborted) return;
    const ms = current.getTime() - clock().getTime();
    if (ms <= 0) {
      ctl.abort(new Error(`deadline ${current.toISOString()} reached`));
      return;
    }
    // Long deadlines (days, for scheduled maintenance) exceed setTimeout's
    // 24.8-day limit; re-arm in steps.
    timer = setTimeout(arm, Math.min(ms, 2 ** 31 - 1));
  };
  arm();

  return {
    at: () => current,
    signal: ctl.signal,
    tighten(next) {
      if (next.getTime() >= current.getTime()) return;
      current = next;
      arm();
    },
    dispose() {
      if (timer) clearTimeout(timer);
      timer = undefined;
    },
  };
}
