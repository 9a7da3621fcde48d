import assert from "node:assert/strict";
import { getEventListeners } from "node:events";
import { describe, test } from "node:test";
import { orAborted } from "../../src/async/or-aborted.ts";

describe("orAborted", () => {
  test("gives the work's value and leaves no listener on a long-lived signal", async () => {
    const daemon = new AbortController();
    for (let i = 0; i < 50; i++) {
      assert.equal(await orAborted(Promise.resolve(i), daemon.signal), i);
    }
    assert.equal(getEventListeners(daemon.signal, "abort").length, 0);
  });

  test("a rejection passes through and removes the listener too", async () => {
    const daemon = new AbortController();
    await assert.rejects(orAborted(Promise.reject(new Error("boom")), daemon.signal), /boom/);
    assert.equal(getEventListeners(daemon.signal, "abort").length, 0);
  });

  test("an abort while the work runs gives undefined at once", async () => {
    const daemon = new AbortController();
    const never = new Promise<number>(() => {});
    const racing = orAborted(never, daemon.signal);
    assert.equal(getEventListeners(daemon.signal, "abort").length, 1);
    daemon.abort();
    assert.equal(await racing, undefined);
  });

  test("an already aborted signal gives undefined unless the work had already settled", async () => {
    const gone = AbortSignal.abort();
    assert.equal(await orAborted(new Promise<number>(() => {}), gone), undefined);
    assert.equal(await orAborted(Promise.resolve(7), gone), 7);
  });
});
