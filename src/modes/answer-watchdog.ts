/**
 * Readiness that follows the metadata service after start-up, not only at
 * it: when no poll has been answered for `staleAfterMs` the pod reports not
 * ready (kubectl and alerts show a node whose handler is blind), and ready
 * again at the next answer. Polling goes on either way; readiness never
 * restarts anything. A one-off failed poll does not flip it: the window is
 * several poll intervals.
 */
export interface AnswerWatchdog {
  /** A poll was answered (found or 404). */
  answered(): void;
}

export interface AnswerWatchdogOptions {
  readonly staleAfterMs: number;
  readonly checkEveryMs: number;
  readonly signal: AbortSignal;
  readonly onStale: (silentForMs: number) => void;
  readonly onFresh: () => void;
  readonly now?: () => number;
}

/** The window after which silence counts: five poll intervals, at least 30 s. */
export function staleAfterMs(pollIntervalMs: number): number {
  return Math.max(30_000, 5 * pollIntervalMs);
}

export function startAnswerWatchdog(o: AnswerWatchdogOptions): AnswerWatchdog {
  const now = o.now ?? Date.now;
  let last = now();
  let stale = false;
  const check = () => {
    const silent = now() - last;
    if (silent >= o.staleAfterMs) {
      stale = true;
      o.onStale(silent);
    }
  };
  const timer = setInterval(check, o.checkEveryMs);
  timer.unref();
  o.signal.addEventListener("abort", () => clearInterval(timer), { once: true });
  return {
    answered() {
      last = now();
      if (stale) {
        stale = false;
        o.onFresh();
      }
    },
  };
}
