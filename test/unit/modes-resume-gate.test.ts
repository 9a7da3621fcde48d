import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { afterResume } from "../../src/modes/resume-gate.ts";
import { notice, recordingHandler } from "../support/notices.ts";

function deferred(): { promise: Promise<void>; resolve: () => void } {
  let resolve!: () => void;
  const promise = new Promise<void>((r) => {
    resolve = r;
  });
  return { promise, resolve };
}

describe("afterResume: new notices wait for the recorded work to be taken back", () => {
  it("holds a notice until the resume settles, then hands it to the engine", async () => {
    const engine = recordingHandler();
    const resume = deferred();
    const handle = afterResume(engine.handle, resume.promise, 5_000);
    const receipt = handle(notice(), "node-a");
    await new Promise((r) => setTimeout(r, 20));
    assert.equal(engine.calls.length, 0, "handed to the engine before the resume");
    resume.resolve();
    await receipt.recorded;
    assert.equal(engine.calls.length, 1);
    assert.equal(engine.calls[0]?.nodeName, "node-a");
    assert.equal((await receipt.done).result, "handled");
  });

  it("refuses a notice as a retry when the resume has not settled within the wait", async () => {
    const engine = recordingHandler();
    let held = 0;
    const handle = afterResume(engine.handle, new Promise(() => {}), 30, () => held++);
    const receipt = handle(notice(), "node-a");
    assert.equal(held, 1, "the API side was woken for the held notice");
    await assert.rejects(receipt.recorded, /waiting for the API server/);
    const outcome = await receipt.done;
    assert.equal(outcome.result, "retry");
    assert.equal(outcome.mayCompleteLifecycleAction, false);
    assert.equal(engine.calls.length, 0);
  });

  it("passes notices straight through once the resume has settled", async () => {
    const engine = recordingHandler();
    const handle = afterResume(engine.handle, Promise.resolve(), 30);
    await Promise.resolve();
    await handle(notice(), "node-a").recorded;
    // Synchronous hand-over: the engine saw the notice before any await.
    handle(notice({ id: "second" }), "node-a");
    assert.equal(engine.calls.length, 2);
  });
});
