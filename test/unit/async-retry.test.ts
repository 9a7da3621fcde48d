import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { backoffDelay } from "../../src/async/backoff.ts";
import { Nudge } from "../../src/async/nudge.ts";
import { retryUntil } from "../../src/async/retry.ts";

describe("backoffDelay", () => {
  const b = { baseMs: 1_000, capMs: 30_000 };
  it("doubles from the base to the cap, half fixed and half random", () => {
    assert.equal(backoffDelay(b, 1, 0), 500);
    assert.equal(backoffDelay(b, 1, 1), 1_000);
    assert.equal(backoffDelay(b, 3, 1), 4_000);
    assert.equal(backoffDelay(b, 6, 1), 30_000);
    assert.equal(backoffDelay(b, 1_000, 0.5), 22_500);
  });
});

describe("retryUntil", () => {
  const fast = { baseMs: 1, capMs: 2 };
  it("returns the first success, reporting each failure", async () => {
    const failures: number[] = [];
    const value = await retryUntil(
      async (tries) => {
        if (tries < 3) throw new Error(`try ${tries}`);
        return "ok";
      },
      {
        backoff: fast,
        signal: new AbortController().signal,
        onFailure: (_e, n) => failures.push(n),
      },
    );
    assert.equal(value, "ok");
    assert.deepEqual(failures, [1, 2]);
  });

  it("throws a fatal error at once", async () => {
    let tries = 0;
    await assert.rejects(
      retryUntil(
        async () => {
          tries++;
          throw new Error("bad config");
        },
        { backoff: fast, signal: new AbortController().signal, fatal: () => true },
      ),
      /bad config/,
    );
    assert.equal(tries, 1);
  });

  it("gives up with undefined when the signal aborts", async () => {
    const stop = new AbortController();
    const value = await retryUntil(
      async (tries) => {
        if (tries === 5) stop.abort();
        throw new Error("down");
      },
      { backoff: fast, signal: stop.signal },
    );
    assert.equal(value, undefined);
  });

  it("a nudge ends the back-off wait at once; the next try follows", async () => {
    const wake = new Nudge();
    const started = performance.now();
    let tries = 0;
    const value = retryUntil(
      async () => {
        tries++;
        if (tries === 1) {
          // Nudged while the first (one-minute) wait is on.
          setTimeout(() => wake.nudge(), 20);
          throw new Error("down");
        }
        return "up";
      },
      { backoff: { baseMs: 60_000, capMs: 60_000 }, signal: new AbortController().signal, wake },
    );
    assert.equal(await value, "up");
    assert.equal(tries, 2);
    assert.ok(performance.now() - started < 5_000, "woken long before the back-off ended");
  });
});
