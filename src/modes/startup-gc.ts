/**
 * One full collection once start-up is over. Module loading, parsing and the
 * start-up requests leave megabytes of garbage, and a daemon that then
 * allocates little may not run a major collection for tens of seconds, so
 * its memory stays at the start-up peak until then. "last-resort" is V8's
 * collect-all-available-garbage: full collections that also compact and hand
 * freed pages back (about 10 ms here, once). The chart runs node with
 * --expose-gc (charts/nthd/files/<mode>-node-flags.txt) for this call alone;
 * without the flag it does nothing.
 */
export function collectStartupGarbage(): void {
  (globalThis as { gc?: (options: object) => void }).gc?.({ type: "major", flavor: "last-resort" });
}
