// Time-to-ready: poll an HTTP endpoint until it answers 200.

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * Polls `url` every `intervalMs` until it answers 200; resolves with the time
 * (Date.now()) of the first 200. Bounded by `timeoutMs`, and gives up early
 * when `alive()` turns false (the process died).
 */
export async function waitHttpOk(
  url: string,
  opts: { timeoutMs: number; intervalMs?: number; alive?: () => boolean },
): Promise<number> {
  const until = Date.now() + opts.timeoutMs;
  const interval = opts.intervalMs ?? 10;
  while (Date.now() < until) {
    if (opts.alive && !opts.alive()) throw new Error(`process exited before ${url} answered 200`);
    try {
      const res = await fetch(url, { signal: AbortSignal.timeout(1000) });
      await res.arrayBuffer();
      if (res.status === 200) return Date.now();
    } catch {
      // not listening yet
    }
    await sleep(interval);
  }
  throw new Error(`${url} did not answer 200 within ${opts.timeoutMs} ms`);
}
