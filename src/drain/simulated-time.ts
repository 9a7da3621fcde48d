/**
 * The two pieces of simulated time the drain estimate runs on: an event
 * queue and the Kubernetes client's token bucket (rate-limit.ts) replayed in
 * seconds instead of milliseconds of wall time. Pure.
 */

/**
 * The client's token bucket in simulated time. `take` is a normal-lane
 * request asked at `t`: served first come, first served, it returns when it
 * may go. `tryTake` is an urgent one: it takes a token only if one is free.
 */
export function tokenBucket(qps: number, burst: number) {
  const capacity = Math.max(1, burst);
  let tokens = capacity;
  let last = 0;
  let count = 0;
  const refill = (t: number) => {
    if (t > last) {
      tokens = Math.min(capacity, tokens + (t - last) * qps);
      last = t;
    }
  };
  return {
    take(t: number): number {
      count++;
      const from = Math.max(t, last);
      refill(from);
      if (tokens >= 1) {
        tokens -= 1;
        return from;
      }
      const grant = from + (1 - tokens) / qps;
      tokens = 0;
      last = grant;
      return grant;
    },
    tryTake(t: number): void {
      count++;
      if (t < last) return;
      refill(t);
      if (tokens >= 1) tokens -= 1;
    },
    requests: () => count,
  };
}

/** A binary min-heap; `before` orders it (ties broken by the caller, so runs are deterministic). */
export class MinHeap<T> {
  readonly #items: T[] = [];
  readonly #before: (x: T, y: T) => boolean;
  constructor(before: (x: T, y: T) => boolean) {
    this.#before = before;
  }
  push(e: T): void {
    const a = this.#items;
    a.push(e);
    let i = a.length - 1;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (!this.#before(a[i] as T, a[parent] as T)) break;
      [a[i], a[parent]] = [a[parent] as T, a[i] as T];
      i = parent;
    }
  }
  pop(): T | undefined {
    const a = this.#items;
    const top = a[0];
    const last = a.pop();
    if (a.length > 0 && last !== undefined) {
      a[0] = last;
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        const r = l + 1;
        let min = i;
        if (l < a.length && this.#before(a[l] as T, a[min] as T)) min = l;
        if (r < a.length && this.#before(a[r] as T, a[min] as T)) min = r;
        if (min === i) break;
        [a[i], a[min]] = [a[min] as T, a[i] as T];
        i = min;
      }
    }
    return top;
  }
}
