import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { createRateLimiter } from "../../src/kube/rate-limit.ts";

/** A limiter on a hand-driven clock: no time passes unless the test says so. */
function frozen(qps: number, burst: number) {
  const limiter = createRateLimiter({ qps, burst, now: () => 0 });
  return { limiter };
}

describe("rate limiter lanes", () => {
  test("urgent requests never wait, even with the budget spent and normal requests queued", async () => {
    const { limiter } = frozen(1, 2);
    await limiter.acquire("normal");
    await limiter.acquire("normal");
    const ctl = new AbortController();
    const queued = limiter.acquire("normal", ctl.signal);
    let normalDone = false;
    void queued.then(
      () => {
        normalDone = true;
      },
      () => {},
    );
    for (let i = 0; i < 50; i++) await limiter.acquire("urgent");
    assert.equal(limiter.waiting, 1);
    assert.equal(normalDone, false);
    ctl.abort(); // the frozen clock would never let it go
    await assert.rejects(queued);
  });

  test("urgent requests use the budget when there is some, so normal ones wait for it", async () => {
    const { limiter } = frozen(1, 2);
    await limiter.acquire("urgent");
    await limiter.acquire("urgent");
    const ctl = new AbortController();
    let normalDone = false;
    const queued = limiter.acquire("normal", ctl.signal);
    void queued.then(
      () => {
        normalDone = true;
      },
      () => {},
    );
    await new Promise((r) => setImmediate(r));
    assert.equal(normalDone, false);
    assert.equal(limiter.waiting, 1);
    ctl.abort();
    await assert.rejects(queued);
  });

  test("normal requests keep first come, first served order", async () => {
    const limiter = createRateLimiter({ qps: 1000, burst: 1 });
    await limiter.acquire("normal");
    const order: number[] = [];
    const all = [1, 2, 3].map((i) => limiter.acquire("normal").then(() => order.push(i)));
    await Promise.all(all);
    assert.deepEqual(order, [1, 2, 3]);
  });

  test("background requests (Events) go only when no normal request is waiting", async () => {
    const limiter = createRateLimiter({ qps: 1000, burst: 1 });
    await limiter.acquire("normal");
    const order: string[] = [];
    const all = [
      limiter.acquire("background").then(() => order.push("event-1")),
      limiter.acquire("normal").then(() => order.push("evict-1")),
      limiter.acquire("background").then(() => order.push("event-2")),
      limiter.acquire("normal").then(() => order.push("evict-2")),
    ];
    assert.equal(limiter.waiting, 4);
    await Promise.all(all);
    assert.deepEqual(order, ["evict-1", "evict-2", "event-1", "event-2"]);
  });

  test("a background request with the budget free goes at once", async () => {
    const { limiter } = frozen(1, 1);
    await limiter.acquire("background");
    assert.equal(limiter.waiting, 0);
  });

  test("an aborted background request leaves its queue", async () => {
    const { limiter } = frozen(1, 1);
    await limiter.acquire("normal");
    const ctl = new AbortController();
    const queued = limiter.acquire("background", ctl.signal);
    assert.equal(limiter.waiting, 1);
    ctl.abort(new Error("stop"));
    await assert.rejects(queued, /stop/);
    assert.equal(limiter.waiting, 0);
  });

  test("an aborted request is refused", async () => {
    const ctl = new AbortController();
    ctl.abort(new Error("stop"));
    const { limiter } = frozen(1, 1);
    await assert.rejects(limiter.acquire("urgent", ctl.signal), /stop/);
  });
});
