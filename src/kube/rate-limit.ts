/**
 * Client-side rate limit for Kubernetes API calls: a token bucket holding up
 * to `burst` tokens, refilled at `qps` per second (client-go's semantics for
 * --kube-api-qps/--kube-api-burst). Waiters in the "urgent" lane are served
 * before "normal" ones, so cordoning 1,000 nodes in a mass interruption is
 * not queued behind the evictions of drains already running.
 * One timer at most; no polling.
 */

export type Lane = "urgent" | "normal";

export interface RateLimiter {
  /** Resolves when a request may go; rejects if `signal` aborts first. */
  acquire(lane?: Lane, signal?: AbortSignal): Promise<void>;
  /** Requests waiting right now (for metrics). */
  readonly waiting: number;
}

interface Waiter {
  resolve(): void;
  reject(reason: unknown): void;
  signal: AbortSignal | undefined;
  onAbort: (() => void) | undefined;
}

export function createRateLimiter(opts: {
  qps: number;
  burst: number;
  now?: () => number;
}): RateLimiter {
  const now = opts.now ?? (() => performance.now());
  const rate = opts.qps / 1000; // tokens per millisecond
  const capacity = Math.max(1, opts.burst);
  let tokens = capacity;
  let last = now();
  let timer: NodeJS.Timeout | undefined;
  const lanes: Record<Lane, Waiter[]> = { urgent: [], normal: [] };

  function refill(): void {
    const t = now();
    tokens = Math.min(capacity, tokens + (t - last) * rate);
    last = t;
  }

  function next(): Waiter | undefined {
    return lanes.urgent.shift() ?? lanes.normal.shift();
  }

  function drain(): void {
    timer = undefined;
    refill();
    while (tokens >= 1) {
      const w = next();
      if (!w) return;
      tokens -= 1;
      if (w.onAbort) w.signal?.removeEventListener("abort", w.onAbort);
      w.resolve();
    }
    if (lanes.urgent.length + lanes.normal.length > 0) {
      const waitMs = Math.ceil((1 - tokens) / rate);
      timer = setTimeout(drain, waitMs);
    }
  }

  return {
    get waiting() {
      return lanes.urgent.length + lanes.normal.length;
    },
    acquire(lane: Lane = "normal", signal?: AbortSignal): Promise<void> {
      if (signal?.aborted) return Promise.reject(signal.reason);
      refill();
      if (tokens >= 1 && lanes.urgent.length + lanes.normal.length === 0) {
        tokens -= 1;
        return Promise.resolve();
      }
      return new Promise<void>((resolve, reject) => {
        const waiter: Waiter = { resolve, reject, signal, onAbort: undefined };
        if (signal) {
          waiter.onAbort = () => {
            const queue = lanes[lane];
            const i = queue.indexOf(waiter);
            if (i !== -1) queue.splice(i, 1);
            reject(signal.reason);
          };
          signal.addEventListener("abort", waiter.onAbort, { once: true });
        }
        lanes[lane].push(waiter);
        if (timer === undefined) drain();
      });
    },
  };
}
