/**
 * A full collection each time queue mode falls quiet after work.
 *
 * Why: between notices a queue-mode replica allocates slowly (long polls,
 * Lease renewals, watch events), so V8 fills its old generation for tens of
 * minutes before it runs a major collection, and keeps the pages it grew into
 * committed. Its RSS therefore climbs for most of an hour after every notice
 * and only then drops: at a notice a minute, a soak read that as several
 * MiB an hour of growth, with the live heap flat. Collecting once when the
 * work is over puts RSS back near the live heap while the replica is idle,
 * which is nearly always; it costs one collection per burst of notices
 * (about 10 ms), none while notices keep coming.
 *
 * "Quiet" is `quietMs` without a notice and no drain in flight; a storm of
 * notices, or a drain that runs for minutes, only postpones the collection.
 */
export interface QuietCollector {
  /** Work arrived: collect once it has been quiet for a while. */
  touch(): void;
  /** No collection from now on (the mode is ending). */
  stop(): void;
}

export interface QuietCollectorOptions {
  readonly quietMs: number;
  /** True while work is still in flight (drains running). */
  readonly busy: () => boolean;
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
    else if (o.busy()) arm(o.quietMs);
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
