/**
 * `work`'s settlement, or `onAbort(reason)`'s answer as soon as `signal`
 * aborts, whichever comes first (`onAbort` throws to reject). Unlike racing
 * `work` against a promise that waits for the abort, the abort listener is
 * removed once `work` settles: a long-lived signal (the daemon's shutdown)
 * would otherwise keep one listener, and through it whatever `work`
 * resolved with, for every call ever made.
 */
export function raceAbort<T, A>(
  work: Promise<T>,
  signal: AbortSignal,
  onAbort: (reason: unknown) => A,
): Promise<T | A> {
  if (signal.aborted) {
    // Work that has already settled still wins, as in Promise.race.
    return Promise.race([work, Promise.resolve().then(() => onAbort(signal.reason))]);
  }
  return new Promise<T | A>((resolve, reject) => {
    const abort = () => {
      try {
        resolve(onAbort(signal.reason));
      } catch (err) {
        reject(err);
      }
    };
    signal.addEventListener("abort", abort, { once: true });
    work.then(
      (value) => {
        signal.removeEventListener("abort", abort);
        resolve(value);
      },
      (err: unknown) => {
        signal.removeEventListener("abort", abort);
        reject(err);
      },
    );
  });
}

/** `work`'s value, or undefined as soon as `signal` aborts (see raceAbort). */
export function orAborted<T>(work: Promise<T>, signal: AbortSignal): Promise<T | undefined> {
  return raceAbort(work, signal, () => undefined);
}
