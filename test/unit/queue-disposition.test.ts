import assert from "node:assert/strict";
import { describe, test } from "node:test";
import type { Notice, NoticeKind } from "../../src/notice.ts";

import {
  completionDelayMs,
  deleteFor,
  leaveFor,
  messageDisposition,
  type NoticeTarget,
  noNodeVerdict,
  noticePath,
} from "../../src/sources/queue/disposition.ts";
import { notice } from "../support/notices.ts";

const node: NoticeTarget = { kind: "node", nodeName: "n1" };
const foreign: NoticeTarget = { kind: "not-in-cluster", managed: true };
const unmanaged: NoticeTarget = { kind: "not-managed" };
const failed: NoticeTarget = {
  kind: "error",
  reason: "aws-api-error",
  message: "throttled",
  outage: true,
};

/** A queue notice of `kind` with the action its parser gives it. */
function noticeOf(kind: NoticeKind, detail: Record<string, unknown> = {}): Notice {
  const action =
    kind === "asg-launch"
      ? "complete-launch"
      : kind === "rebalance-recommendation"
        ? "cordon"
        : "drain";
  return notice({ kind, action, detail });
}

describe("messageDisposition", () => {
  const keep = { deleteSqsMsgIfNodeNotFound: false };
  const drop = { deleteSqsMsgIfNodeNotFound: true };

  test("a notice recorded on a node: delete as handled", () => {
    assert.deepEqual(messageDisposition([node], keep), deleteFor("handled"));
  });
  test("an instance of no node here: left unless delete-sqs-msg-if-node-not-found", () => {
    assert.deepEqual(messageDisposition([foreign], keep), leaveFor("not-in-cluster"));
    assert.deepEqual(messageDisposition([foreign], drop), deleteFor("not-in-cluster"));
  });
  test("an instance without the managed tag: delete", () => {
    assert.deepEqual(messageDisposition([unmanaged], keep), deleteFor("not-managed"));
  });
  test("a lookup error anywhere in the message wins: retry later", () => {
    assert.deepEqual(messageDisposition([node, failed], drop), leaveFor("aws-api-error"));
    assert.deepEqual(messageDisposition([unmanaged, failed], keep), leaveFor("aws-api-error"));
  });
  test("several instances: a foreign one keeps a shared queue's message for its cluster", () => {
    assert.deepEqual(messageDisposition([node, foreign], keep), leaveFor("not-in-cluster"));
    assert.deepEqual(messageDisposition([node, foreign], drop), deleteFor("handled"));
    assert.deepEqual(messageDisposition([unmanaged, foreign], drop), deleteFor("not-in-cluster"));
  });
});

describe("noticePath", () => {
  const off = { completeLaunchLifecycleAction: false };
  const on = { completeLaunchLifecycleAction: true };

  test("interruptions and rebalance are recorded, then deleted", () => {
    for (const kind of [
      "spot-interruption",
      "rebalance-recommendation",
      "instance-state-change",
      "health-scheduled-change",
      "capacity-reservation-interruption",
    ] as const) {
      assert.equal(noticePath(noticeOf(kind), false, off), "record", kind);
    }
  });
  test("a terminate hook drains and then completes", () => {
    assert.equal(noticePath(noticeOf("asg-terminate"), true, off), "drain-then-complete");
    assert.equal(
      noticePath(noticeOf("asg-terminate"), false, off),
      "record",
      "no action to complete",
    );
  });
  test("a launch hook completes only when configured, never for a warm-pool launch", () => {
    assert.equal(noticePath(noticeOf("asg-launch"), true, off), "ignore");
    assert.equal(noticePath(noticeOf("asg-launch"), true, on), "complete-launch");
    assert.equal(
      noticePath(noticeOf("asg-launch", { destination: "WarmPool" }), true, on),
      "ignore",
    );
    assert.equal(
      noticePath(noticeOf("asg-launch", { destination: "AutoScalingGroup" }), true, on),
      "complete-launch",
    );
  });
});

describe("lifecycle completion delay", () => {
  test("delay: -1 means none", () => {
    assert.equal(completionDelayMs({ completeLifecycleActionDelaySeconds: -1 }), 0);
    assert.equal(completionDelayMs({ completeLifecycleActionDelaySeconds: 0 }), 0);
    assert.equal(completionDelayMs({ completeLifecycleActionDelaySeconds: 15 }), 15_000);
  });
});

describe("terminate hook for an instance with no node", () => {
  const config = {
    completeLifecycleActionWithoutNode: true,
    deleteSqsMsgIfNodeNotFound: true,
    nodeRegistrationWaitSeconds: 90,
  };
  const launchedAtMs = 1_000_000;
  const target = { kind: "not-in-cluster", managed: true, launchedAtMs } as const;

  test("launched long ago: completed at once", () => {
    assert.deepEqual(
      noNodeVerdict(target, config, launchedAtMs + 600_000, launchedAtMs + 600_000),
      {
        kind: "complete",
      },
    );
  });

  test("launched moments ago: waits for its node until 90 s after launch", () => {
    assert.deepEqual(noNodeVerdict(target, config, launchedAtMs + 5_000, launchedAtMs + 5_000), {
      kind: "wait",
      untilMs: launchedAtMs + 90_000,
    });
  });

  test("launch time unknown: the wait counts from receipt", () => {
    const unknown = { kind: "not-in-cluster", managed: true } as const;
    assert.deepEqual(noNodeVerdict(unknown, config, 2_000, 1_000), {
      kind: "wait",
      untilMs: 91_000,
    });
  });

  test("never for an unmanaged instance, a shared queue, or when turned off", () => {
    const now = launchedAtMs + 600_000;
    const unmanaged = { ...target, managed: false };
    assert.equal(noNodeVerdict(unmanaged, config, now, now).kind, "leave");
    const shared = { ...config, deleteSqsMsgIfNodeNotFound: false };
    assert.equal(noNodeVerdict(target, shared, now, now).kind, "leave");
    const off = { ...config, completeLifecycleActionWithoutNode: false };
    assert.equal(noNodeVerdict(target, off, now, now).kind, "leave");
  });
});
