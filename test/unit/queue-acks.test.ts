// Acknowledging messages with an SQS stand-in that answers as told: no I/O.
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import type { DeleteMessageBatchCommand, SQSClient } from "@aws-sdk/client-sqs";
import { pino } from "pino";
import { MessageAcks } from "../../src/sources/queue/acks.ts";
import { VisibilityKeeper } from "../../src/sources/queue/visibility.ts";

type Entries = { Id: string; ReceiptHandle: string }[];

/** Deletes succeed, except for receipts listed as stale. */
function fakeSqs(stale: ReadonlySet<string>) {
  const deleted: string[] = [];
  const send = async (cmd: DeleteMessageBatchCommand) => {
    const entries = cmd.input.Entries as Entries;
    const failed = entries.filter((e) => stale.has(e.ReceiptHandle));
    for (const e of entries) if (!stale.has(e.ReceiptHandle)) deleted.push(e.ReceiptHandle);
    return {
      Failed: failed.map((e) => ({ Id: e.Id, Code: "ReceiptHandleIsInvalid", SenderFault: true })),
    };
  };
  return { deleted, sqs: { send: send as unknown as SQSClient["send"] } };
}

function setup(stale: string[] = []) {
  const log = pino({ level: "silent" });
  const { deleted, sqs } = fakeSqs(new Set(stale));
  const policy = { initialSeconds: 30, extendSeconds: 30 };
  const keeper = new VisibilityKeeper({ sqs, queueUrl: "q", policy, log, tickMs: 3_600_000 });
  const acks = new MessageAcks({ sqs, queueUrl: "q", keeper, log });
  return { acks, keeper, deleted };
}

describe("a message delivered again while in hand", () => {
  test("is not handed out twice; deleting the first deletes it with the fresh receipt", async () => {
    const { acks, keeper, deleted } = setup(["stale"]);
    const first = { messageId: "m1", receiptHandle: "stale" };
    const again = { messageId: "m1", receiptHandle: "fresh" };
    keeper.track(first.receiptHandle, first.messageId, Date.now());
    keeper.track(again.receiptHandle, again.messageId, Date.now());
    assert.equal(acks.begin(first), true);
    assert.equal(acks.begin(again), false, "the second delivery is not handled");
    acks.delete(first, "handled");
    await acks.settled();
    assert.deepEqual(deleted, ["fresh"]);
    assert.equal(keeper.size, 0, "neither receipt is extended any more");
    assert.equal(
      acks.begin({ messageId: "m1", receiptHandle: "later" }),
      true,
      "no longer in hand",
    );
    keeper.stop();
  });

  test("leaving the first leaves the second too", () => {
    const { acks, keeper } = setup();
    keeper.track("a", "m2", Date.now());
    keeper.track("b", "m2", Date.now());
    acks.begin({ messageId: "m2", receiptHandle: "a" });
    acks.begin({ messageId: "m2", receiptHandle: "b" });
    acks.leave({ messageId: "m2", receiptHandle: "a" }, "kube-api-error");
    assert.equal(keeper.size, 0);
    keeper.stop();
  });
});
