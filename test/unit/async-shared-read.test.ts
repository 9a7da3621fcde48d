import assert from "node:assert/strict";
import { test } from "node:test";
import { sharedRead } from "../../src/async/shared-read.ts";

function counter() {
  let calls = 0;
  let fail = false;
  return {
    get calls() {
      return calls;
    },
    failNext() {
      fail = true;
    },
    read: async () => {
      calls++;
      await new Promise((r) => setTimeout(r, 5));
      if (fail) {
        fail = false;
        throw new Error("boom");
      }
      return calls;
    },
  };
}

test("callers during a read and within maxAge share it; later ones read again", async () => {
  let t = 0;
  const c = counter();
  const get = sharedRead(c.read, { maxAgeMs: 1000, now: () => t });
  const answers = await Promise.all([get(), get(), get()]);
  assert.deepEqual(answers, [1, 1, 1]);
  t = 900;
  assert.equal(await get(), 1);
  assert.equal(c.calls, 1);
  t = 2000;
  assert.equal(await get(), 2);
  assert.equal(c.calls, 2);
});

test("a failed read is not kept", async () => {
  const c = counter();
  const get = sharedRead(c.read, { maxAgeMs: 60_000 });
  c.failNext();
  await assert.rejects(get(), /boom/);
  assert.equal(await get(), 2);
});

test("an aborted caller stops waiting; the others still get the answer", async () => {
  const c = counter();
  const get = sharedRead(c.read, { maxAgeMs: 60_000 });
  const ac = new AbortController();
  const mine = get(ac.signal);
  const theirs = get();
  ac.abort(new Error("cancelled"));
  await assert.rejects(mine, /cancelled/);
  assert.equal(await theirs, 1);
  assert.equal(c.calls, 1);
});
