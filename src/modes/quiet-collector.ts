/**
 * A full collection each time queue mode falls quiet after work.
 *
 * Why: between notices a queue-mode replica allocates slowly (long polls,
 * Lease renewals, watch events), V8 runs a major collection only every few
 * minutes, and it keeps the pages its heap grew into committed until its
 * memory reducer finds the process idle, which one that wakes every few
 * seconds seldom is. In a soak (a notice a minute) the committed heap after
 * successive full collections rose from 28.9 to 31.9 MiB in 25 minutes while
 * the live heap stayed at 21-22 MiB. Collecting once when the work is over,
 * with compaction and freed pages handed back, puts RSS back near the live
 * heap while the replica is idle, which is nearly always; it costs one
 * collection per burst of notices (about 10 ms at an idle heap), none while
 * notices keep coming.
 *
 * "Quiet" is `quietMs` after the last touch: queue mode touches when a notice
 * arrives and when the work it started or joined ends, so a storm of notices
 * only postpones the collection. Not "no work in flight": a scheduled drain
 * may wait for days, and the collection must not wait with it.
 */
export interface QuietCollector {
  /** Work arrived or ended: collect once it has been quiet for a while. */
  touch(): void;
  /** No collection from now on (the mode is ending). */
  stop(): void;
}

export interface QuietCollectorOptions {
  readonly quietMs: number;
  readonly collect: () => void;
  readonly now?: () => number;
}

export function quietCollector(o: QuietCollectorOptions): QuietCollector {
  const now = o.now ?? Date.now;
  let lastTouch = 0;
  let timer: ReturnType<typeof setTimeout> | undefined;
  let stopped = false;
  const arm = (ms: number) => {
    timer = setTimeout(check, ms);
    // Never what keeps the process alive.
    timer.unref?.();
  };
  // A touch only notes the time; the one timer re-arms itself for whatever is
  // left, so a storm of notices costs no timer churn.
  function check(): void {
    timer = undefined;
    if (stopped) return;
    const left = lastTouch + o.quietMs - now();
    if (left > 0) arm(left);
    else o.collect();
  }
  return {
    touch() {
      if (stopped) return;
      lastTouch = now();
      if (timer === undefined) arm(o.quietMs);
    },
    stop() {
      stopped = true;
      clearTimeout(timer);
      timer = undefined;
    },
  };
}
