/** Names and ids that keep tests sharing one test ground (or one moto) apart. */

/** A random EC2-style instance id (i- and 17 hex digits). */
export function randomInstanceId(): string {
  const hex = Array.from({ length: 17 }, () => Math.floor(Math.random() * 16).toString(16)).join(
    "",
  );
  return `i-${hex}`;
}

/** A short random suffix, one per test file run: resources it creates carry it. */
export function runSuffix(length = 6): string {
  return Math.random()
    .toString(36)
    .slice(2, 2 + length);
}

/**
 * A namer for one test file: `unique("node")` is `<prefix>-node-<run>-<n>`,
 * a new name each call, never the same as another run's.
 */
export function uniqueNames(prefix: string): (what: string) => string {
  const run = runSuffix(5);
  let seq = 0;
  return (what) => `${prefix}-${what}-${run}-${++seq}`;
}
