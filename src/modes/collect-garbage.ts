/**
 * One full collection that also hands memory back: V8's
 * collect-all-available-garbage ("last-resort"), full collections that
 * compact and release freed pages (about 10 ms at nthd's idle heap). Called
 * when start-up is over (module loading, parsing and the start-up requests
 * leave megabytes of garbage that a daemon allocating little may keep for
 * tens of seconds) and, in queue mode, when work falls quiet
 * (quiet-collector.ts). The chart runs node with --expose-gc
 * (charts/nthd/files/<mode>-node-flags.txt) for these calls alone; without
 * the flag this does nothing.
 */
export function collectAllGarbage(): void {
  (globalThis as { gc?: (options: object) => void }).gc?.({ type: "major", flavor: "last-resort" });
}
