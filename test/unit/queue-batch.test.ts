import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { Batcher, chunk } from "../../src/sources/queue/batch.ts";

describe("chunk", () => {
  test("splits into pieces of at most the size, keeping order", () => {
    assert.deepEqual(chunk([1, 2, 3, 4, 5], 2), [[1, 2], [3, 4], [5]]);
    assert.deepEqual(chunk([], 10), []);
    assert.deepEqual(chunk([1, 2], 10), [[1, 2]]);
  });
  test("rejects a size below one", () => {
    assert.throws(() => chunk([1], 0), RangeError);
  });
});

describe("Batcher", () => {
  test("requests made together become one batch; each gets its own answer", async () => {
    const calls: string[][] = [];
    const b = new Batcher<string, number>({
      maxSize: 100,
      windowMs: 5,
      run: async (keys) => {
        calls.push(keys);
        return new Map(keys.filter((k) => k !== "unknown").map((k) => [k, k.length]));
      },
    });
    const answers = await Promise.all([b.get("a"), b.get("bbb"), b.get("unknown"), b.get("a")]);
    assert.deepEqual(answers, [1, 3, undefined, 1]);
    assert.equal(calls.length, 1);
    assert.deepEqual(calls[0], ["a", "bbb", "unknown"], "a repeated key is asked once");
  });

  test("a full batch goes at once and the rest follows in the next", async () => {
    const calls: number[][] = [];
    const b = new Batcher<number, number>({
      maxSize: 3,
      windowMs: 60_000,
      run: async (keys) => {
        calls.push(keys);
        return new Map(keys.map((k) => [k, k * 2]));
      },
    });
    const first = [1, 2, 3].map((k) => b.get(k));
    assert.deepEqual(
      await Promise.all(first),
      [2, 4, 6],
      "a full batch does not wait for the window",
    );
    const rest = b.get(4);
    b.flush();
    assert.equal(await rest, 8);
    assert.deepEqual(calls, [[1, 2, 3], [4]]);
  });

  test("a failing batch rejects every request in it and later batches still run", async () => {
    let fail = true;
    const b = new Batcher<string, string>({
      maxSize: 10,
      windowMs: 1,
      run: async (keys) => {
        if (fail) throw new Error("throttled");
        return new Map(keys.map((k) => [k, k.toUpperCase()]));
      },
    });
    const results = await Promise.allSettled([b.get("x"), b.get("y")]);
    assert.deepEqual(
      results.map((r) => r.status),
      ["rejected", "rejected"],
    );
    fail = false;
    assert.equal(await b.get("x"), "X");
  });
});
