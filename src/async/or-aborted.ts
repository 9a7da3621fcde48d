/**
 * `work`'s value, or undefined as soon as `signal` aborts, whichever comes
 * first. Unlike racing `work` against a promise that waits for the abort,
 * the abort listener is removed once `work` settles: a long-lived signal
 * (the daemon's shutdown) would otherwise keep one listener, and through it
 * the outcome `work` resolved with, for every message ever handled.
 */
export function orAborted<T>(work: Promise<T>, signal: AbortSignal): Promise<T | undefined> {
  if (signal.aborted) return Promise.race([work, Promise.resolve(undefined)]);
  return new Promise<T | undefined>((resolve, reject) => {
    const onAbort = () => resolve(undefined);
    signal.addEventListener("abort", onAbort, { once: true });
    work.then(
      (value) => {
        signal.removeEventListener("abort", onAbort);
        resolve(value);
      },
      (err: unknown) => {
        signal.removeEventListener("abort", onAbort);
        reject(err);
      },
    );
  });
}
