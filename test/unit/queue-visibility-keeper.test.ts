// The visibility keeper with an SQS stand-in that answers as told: no I/O.
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import type { ChangeMessageVisibilityBatchCommand, SQSClient } from "@aws-sdk/client-sqs";
import { pino } from "pino";
import { changeTimeoutMs, VisibilityKeeper } from "../../src/sources/queue/visibility.ts";

type Entries = { Id: string; ReceiptHandle: string }[];
type Answer = (handles: string[], signal: AbortSignal | undefined) => Promise<unknown>;

function fakeSqs(answer: Answer): Pick<SQSClient, "send"> & { calls: string[][] } {
  const calls: string[][] = [];
  const send = (cmd: ChangeMessageVisibilityBatchCommand, opts?: { abortSignal?: AbortSignal }) => {
    const handles = (cmd.input.Entries as Entries).map((e) => e.ReceiptHandle);
    calls.push(handles);
    return answer(handles, opts?.abortSignal);
  };
  return { calls, send: send as unknown as SQSClient["send"] };
}

const policy = { initialSeconds: 30, extendSeconds: 30 };
const log = pino({ level: "silent" });

function hangUntilAborted(signal: AbortSignal | undefined): Promise<never> {
  return new Promise((_, reject) =>
    signal?.addEventListener("abort", () => reject(signal.reason), { once: true }),
  );
}

describe("visibility keeper", () => {
  test("a hung batch holds only its own messages; the next tick extends the others", async () => {
    let now = 0;
    const sqs = fakeSqs((handles, signal) =>
      handles.includes("hung-0") ? hangUntilAborted(signal) : Promise.resolve({ Failed: [] }),
    );
    const keeper = new VisibilityKeeper({
      sqs,
      queueUrl: "q",
      policy,
      log,
      tickMs: 3_600_000,
      now: () => now,
      callTimeoutMs: 200,
    });
    for (let i = 0; i < 10; i++) keeper.track(`hung-${i}`, `m${i}`, 0);
    now = 16_000; // due: 14 s left of 30
    const first = keeper.tick(); // one batch of 10, hangs
    keeper.track("late", "late", -15_000); // due as well
    await keeper.tick();
    assert.deepEqual(sqs.calls.at(-1), ["late"], "extended while the other batch hangs");
    await first; // the hung call is cut off by its own timeout
    await keeper.tick();
    assert.equal(sqs.calls.filter((c) => c.includes("hung-0")).length, 2, "hung batch tried again");
    keeper.stop();
  });

  test("a failed entry is retried; one whose receipt is gone is dropped", async () => {
    let now = 0;
    let round = 0;
    const sqs = fakeSqs(async (handles) => {
      round++;
      return {
        Failed:
          round === 1
            ? [
                { Id: String(handles.indexOf("busy")), Code: "InternalError", SenderFault: false },
                {
                  Id: String(handles.indexOf("gone")),
                  Code: "ReceiptHandleIsInvalid",
                  SenderFault: true,
                },
              ]
            : [],
      };
    });
    const keeper = new VisibilityKeeper({
      sqs,
      queueUrl: "q",
      policy,
      log,
      tickMs: 3_600_000,
      now: () => now,
    });
    for (const h of ["ok", "busy", "gone"]) keeper.track(h, h, 0);
    now = 16_000;
    await keeper.tick();
    assert.equal(keeper.size, 2, "the stale receipt is no longer tracked");
    await keeper.tick();
    assert.deepEqual(sqs.calls.at(-1), ["busy"], "only the failed entry is due again");
    await keeper.tick();
    assert.equal(sqs.calls.length, 2, "extended: nothing due any more");
    keeper.stop();
  });
});

describe("changeTimeoutMs", () => {
  test("a quarter of an extension, at most half the time left, at least 1 s", () => {
    assert.equal(changeTimeoutMs(policy), 7_500);
    assert.equal(changeTimeoutMs(policy, 10_000), 5_000);
    assert.equal(changeTimeoutMs(policy, 500), 1_000);
    assert.equal(
      changeTimeoutMs(policy, 9_453),
      4_726,
      "whole milliseconds (AbortSignal.timeout needs them)",
    );
  });
});
