/**
 * Client-side rate limit for Kubernetes API calls: a token bucket holding up
 * to `burst` tokens, refilled at `qps` per second (client-go's semantics for
 * --kube-api-qps/--kube-api-burst), with two lanes:
 *
 * - "normal" (evictions, pod lists and watches): waits for a token, first
 *   come, first served;
 * - "background" (Kubernetes Events): waits for a token no normal request
 *   is waiting for. Events only inform; in a mass interruption there is one
 *   per evicted pod, and sharing the budget with the evictions would halve
 *   the eviction rate when it matters most;
 * - "urgent" (cordons, node records, uncordons): never waits. It takes a
 *   token when one is there, so it still counts against the budget of the
 *   drain traffic, and goes without one otherwise.
 *
 * Why urgent requests may exceed the budget: they are few and bounded (a get
 * and a patch or two per interrupted node, and the queue consumer caps how
 * many messages it holds), unlike eviction retries under a
 * PodDisruptionBudget, which are what the budget is for. A priority queue
 * behind one shared budget is not enough: at 50 requests/s, 1,000 nodes'
 * cordons alone would take 40 s while evictions get nothing. The API server
 * still protects itself (API Priority and Fairness answers 429, which the
 * node updates retry with backoff).
 *
 * The readiness probe (KubeClient.probe) takes no lane at all: it must not
 * wait behind evictions, or readiness flaps exactly when the node is busiest
 * draining. It is one cached read after a minute of silence (see
 * observe/api-verdict.ts), so it needs no budget.
 * One timer at most; no polling.
 */

export type Lane = "urgent" | "normal" | "background";

export interface RateLimiter {
  /** Resolves when a request may go; rejects if `signal` aborts first. */
  acquire(lane?: Lane, signal?: AbortSignal): Promise<void>;
  /** Requests waiting right now (for metrics). */
  readonly waiting: number;
}

interface Waiter {
  resolve(): void;
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
  const queue: Waiter[] = [];
  const background: Waiter[] = [];

  function refill(): void {
    const t = now();
    tokens = Math.min(capacity, tokens + (t - last) * rate);
    last = t;
  }

  function drain(): void {
    timer = undefined;
    refill();
    while (tokens >= 1) {
      const w = queue.shift() ?? background.shift();
      if (!w) return;
      tokens -= 1;
      if (w.onAbort) w.signal?.removeEventListener("abort", w.onAbort);
      w.resolve();
    }
    if (queue.length > 0 || background.length > 0) {
      const waitMs = Math.ceil((1 - tokens) / rate);
      timer = setTimeout(drain, waitMs);
    }
  }

  return {
    get waiting() {
      return queue.length + background.length;
    },
    acquire(lane: Lane = "normal", signal?: AbortSignal): Promise<void> {
      if (signal?.aborted) return Promise.reject(signal.reason);
      refill();
      if (lane === "urgent") {
        if (tokens >= 1) tokens -= 1;
        return Promise.resolve();
      }
      const line = lane === "background" ? background : queue;
      if (tokens >= 1 && queue.length === 0 && line.length === 0) {
        tokens -= 1;
        return Promise.resolve();
      }
      return new Promise<void>((resolve, reject) => {
        const waiter: Waiter = { resolve, signal, onAbort: undefined };
        if (signal) {
          waiter.onAbort = () => {
            const i = line.indexOf(waiter);
            if (i !== -1) line.splice(i, 1);
            reject(signal.reason);
          };
          signal.addEventListener("abort", waiter.onAbort, { once: true });
        }
        line.push(waiter);
        if (timer === undefined) drain();
      });
    },
  };
}
