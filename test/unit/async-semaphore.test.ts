import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { Semaphore } from "../../src/async/semaphore.ts";
import { inFlightLimit, pollerCount } from "../../src/sources/queue/consumer.ts";

describe("semaphore", () => {
  test("takes up to what is free; waiters are served in order, each as much as is free", async () => {
    const slots = new Semaphore(3);
    const never = new AbortController().signal;
    assert.equal(await slots.take(10, never), 3);
    const order: string[] = [];
    const a = slots.take(2, never).then((n) => order.push(`a:${n}`));
    const b = slots.take(1, never).then((n) => order.push(`b:${n}`));
    assert.equal(slots.waiting, 2);
    slots.give(1);
    await a;
    assert.deepEqual(order, ["a:1"]);
    assert.equal(slots.waiting, 1);
    slots.give(2);
    await b;
    assert.deepEqual(order, ["a:1", "b:1"]);
    assert.equal(slots.free, 1);
  });

  test("a newcomer does not overtake a waiter", async () => {
    const slots = new Semaphore(1);
    const never = new AbortController().signal;
    await slots.take(1, never);
    const first = slots.take(1, never);
    slots.give(1);
    assert.equal(await first, 1);
    assert.equal(slots.free, 0);
  });

  test("an abort resolves 0, leaves the queue and takes nothing", async () => {
    const slots = new Semaphore(1);
    const ctl = new AbortController();
    await slots.take(1, ctl.signal);
    const waiting = slots.take(1, ctl.signal);
    ctl.abort();
    assert.equal(await waiting, 0);
    assert.equal(slots.waiting, 0);
    slots.give(1);
    assert.equal(slots.free, 1);
    assert.equal(await slots.take(1, ctl.signal), 0);
  });

  test("acquire takes one slot, and rejects with the abort reason when aborted while waiting", async () => {
    const slots = new Semaphore(1);
    const never = new AbortController().signal;
    await slots.acquire(never);
    assert.equal(slots.free, 0);
    const ctl = new AbortController();
    const waiting = slots.acquire(ctl.signal);
    const reason = new Error("shutting down");
    ctl.abort(reason);
    await assert.rejects(waiting, (err) => err === reason);
    assert.equal(slots.waiting, 0);
    slots.give(1);
    assert.equal(slots.free, 1);
  });

  test("sizes below one are refused", () => {
    assert.throws(() => new Semaphore(0), RangeError);
  });

  test("a replica holds ten messages per worker and polls once per ten it may hold", () => {
    assert.equal(inFlightLimit(10), 100);
    assert.equal(inFlightLimit(1), 10);
    assert.equal(pollerCount(inFlightLimit(10)), 10);
    assert.equal(pollerCount(inFlightLimit(1)), 1);
  });
});

describe("semaphore resize", () => {
  test("growing wakes waiters; shrinking takes nothing back and holds new takers", async () => {
    const slots = new Semaphore(2);
    const never = new AbortController().signal;
    assert.equal(await slots.take(2, never), 2);
    const waiter = slots.take(1, never);
    slots.resize(3);
    assert.equal(await waiter, 1);
    assert.equal(slots.size, 3);
    slots.resize(1);
    assert.equal(slots.free, -2);
    const late = slots.take(1, never);
    slots.give(2);
    assert.equal(slots.waiting, 1, "still two over the new size");
    slots.give(1);
    assert.equal(await late, 1);
  });
});

describe("semaphore batch takes", () => {
  const never = new AbortController().signal;
  const tick = (ms = 0) => new Promise((r) => setTimeout(r, ms));

  test("a batch taker waits for its batch while slots free one at a time", async () => {
    const slots = new Semaphore(10);
    assert.equal(await slots.take(10, never), 10);
    let got: number | undefined;
    const taking = slots.take(10, never, { atLeast: 10, lingerMs: 60_000 }).then((n) => {
      got = n;
    });
    for (let i = 0; i < 9; i++) slots.give(1);
    await tick();
    assert.equal(got, undefined, "served before its batch was free");
    slots.give(1);
    await taking;
    assert.equal(got, 10);
    assert.equal(slots.free, 0);
  });

  test("the linger starts with the first free slot, then what is free is taken", async () => {
    const slots = new Semaphore(10);
    await slots.take(10, never);
    const started = performance.now();
    const taking = slots.take(10, never, { atLeast: 10, lingerMs: 40 });
    await tick(80); // nothing free yet: no linger running, however long this lasts
    assert.equal(slots.waiting, 1);
    const firstFree = performance.now();
    slots.give(3);
    assert.equal(await taking, 3);
    assert.ok(performance.now() - firstFree >= 35, "served before its linger ran out");
    assert.ok(firstFree - started >= 75);
    assert.equal(slots.free, 0);
  });

  test("a batch is served at once when it is free, and capped at the semaphore's size", async () => {
    const slots = new Semaphore(4);
    assert.equal(await slots.take(10, never, { atLeast: 10, lingerMs: 60_000 }), 4);
    slots.give(4);
    assert.equal(await slots.take(2, never, { atLeast: 10, lingerMs: 60_000 }), 2);
  });

  test("takers behind a gathering batch wait their turn; an abort of the gatherer lets them in", async () => {
    const slots = new Semaphore(10);
    await slots.take(10, never);
    const ctl = new AbortController();
    const gathering = slots.take(10, ctl.signal, { atLeast: 10, lingerMs: 60_000 });
    let single: number | undefined;
    const behind = slots.take(1, never).then((n) => {
      single = n;
    });
    slots.give(2);
    await tick();
    assert.equal(single, undefined, "overtook the gathering batch");
    ctl.abort();
    assert.equal(await gathering, 0);
    await behind;
    assert.equal(single, 1);
    assert.equal(slots.free, 1);
    assert.equal(slots.waiting, 0);
  });
});
