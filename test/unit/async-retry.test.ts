import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { backoffDelay } from "../../src/async/backoff.ts";
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
});
