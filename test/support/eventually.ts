/**
 * Waiting for something to become true, by polling. Pure: nothing here knows
 * the test ground, so unit tests may use it as well as integration tests.
 */
import { setTimeout as sleep } from "node:timers/promises";

/**
 * Polls `probe` until it returns a value; errors count as "not yet" and the
 * last one is named in the timeout message.
 */
export async function eventually<T>(
  what: string,
  probe: () => Promise<T | undefined>,
  timeoutMs = 60_000,
): Promise<T> {
  const until = Date.now() + timeoutMs;
  let last: unknown;
  while (Date.now() < until) {
    try {
      const value = await probe();
      if (value !== undefined) return value;
    } catch (err) {
      last = err;
    }
    await sleep(200);
  }
  throw new Error(`timed out waiting for ${what}${last ? `: ${String(last)}` : ""}`);
}

/**
 * Polls a synchronous condition on in-process state (a recorder's calls, an
 * informer's cache) until it holds. Quicker to poll than `eventually`.
 */
export async function until(
  what: string,
  holds: () => boolean,
  timeoutMs = 15_000,
  intervalMs = 20,
): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!holds()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await sleep(intervalMs);
  }
}
