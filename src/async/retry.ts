/**
 * Tries until it works, for what nthd needs and cannot do without (the
 * instance identity from IMDS, the node from the API server): a process
 * that exited instead would be restarted by CrashLoopBackOff, whose own
 * back-off grows to five minutes, longer than a Spot warning lasts.
 */
import { type Backoff, backoffDelay } from "./backoff.ts";
import type { Nudge } from "./nudge.ts";
import { sleep } from "./sleep.ts";

export interface RetryOptions {
  readonly backoff: Backoff;
  readonly signal: AbortSignal;
  /** Errors retrying cannot fix (a configuration error): thrown at once. */
  readonly fatal?: (err: unknown) => boolean;
  /** Called after each failed try, before the wait. */
  readonly onFailure?: (err: unknown, tries: number, waitMs: number) => void;
  readonly random?: () => number;
  /** Ends a wait early: someone needs the result now (the next try starts at once). */
  readonly wake?: Nudge;
}

/** The first result of `attempt`, or undefined once `signal` aborts. Throws only fatal errors. */
export async function retryUntil<T>(
  attempt: (tries: number) => Promise<T>,
  o: RetryOptions,
): Promise<T | undefined> {
  for (let tries = 1; !o.signal.aborted; tries++) {
    try {
      return await attempt(tries);
    } catch (err) {
      if (o.signal.aborted) return undefined;
      if (o.fatal?.(err)) throw err;
      const waitMs = backoffDelay(o.backoff, tries, (o.random ?? Math.random)());
      o.onFailure?.(err, tries, waitMs);
      const wait = o.wake ? AbortSignal.any([o.signal, o.wake.signal]) : o.signal;
      await sleep(waitMs, wait);
      if (o.signal.aborted) return undefined;
    }
  }
  return undefined;
}
