import { raceAbort } from "./or-aborted.ts";

/**
 * One read shared by everyone who asks at about the same time: callers that
 * ask while a read is running, or within `maxAgeMs` of its answer, get that
 * answer instead of starting another. A failed read is not kept, so the next
 * caller tries again. A caller's signal abandons only its own wait: the read
 * itself goes on for the others.
 *
 * For lists that every drain of a mass interruption needs and that change
 * little in a few seconds (the cluster's PodDisruptionBudgets): a thousand
 * drains starting together make one request instead of a thousand, and hold
 * one copy of the answer.
 */
export function sharedRead<T>(
  read: () => Promise<T>,
  opts: { maxAgeMs: number; now?: () => number },
): (signal?: AbortSignal) => Promise<T> {
  const now = opts.now ?? (() => performance.now());
  let current: { value: Promise<T>; at: number | undefined } | undefined;

  function start(): Promise<T> {
    const entry: { value: Promise<T>; at: number | undefined } = {
      value: read(),
      at: undefined,
    };
    current = entry;
    entry.value.then(
      () => {
        entry.at = now();
      },
      () => {
        if (current === entry) current = undefined;
      },
    );
    return entry.value;
  }

  return (signal) => {
    if (signal?.aborted) return Promise.reject(signal.reason);
    const fresh =
      current !== undefined && (current.at === undefined || now() - current.at <= opts.maxAgeMs);
    const value = fresh && current ? current.value : start();
    if (signal === undefined) return value;
    return raceAbort(value, signal, (reason): never => {
      throw reason;
    });
  };
}
