// Terminate lifecycle actions: the token never in what people and other
// systems read (notice id, hence taints, Events, logs, webhooks), and the
// owner's duty: heartbeat at once, then complete once, after the drain.
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { pino } from "pino";
import { fromParsed } from "../../src/commands/explain/classify.ts";
import { taintValue } from "../../src/drain/record.ts";
import type { NoticeOutcome } from "../../src/notice.ts";
import { webhookData } from "../../src/observe/webhook-data.ts";
import type { HeartbeatPlan, LifecycleActions } from "../../src/sources/queue/lifecycle-actions.ts";
import { createLifecycleDuties } from "../../src/sources/queue/lifecycle-duties.ts";
import type { QueueConfig } from "../../src/sources/queue/message.ts";
import { lifecycleActionOf, parseQueueMessage } from "../../src/sources/queue/parse.ts";
import { lifecycleKey } from "../../src/sources/queue/parsers/lifecycle.ts";
import { readAwsEvent } from "../support/fixtures.ts";

const TOKEN = "0befcbdb-6ecd-498a-9ff7-ae9b54447cd6";

function terminateNotice() {
  const parsed = parseQueueMessage(
    readAwsEvent("sqs/eventbridge/asg-terminate-lifecycle-action.nth-fixture.json"),
    new Date("2030-01-01T00:00:00Z"),
  );
  assert.ok(parsed.ok);
  const [n] = parsed.notices;
  assert.ok(n);
  return n;
}

describe("the lifecycle token stays secret", () => {
  test("the notice id carries a digest of the token, never the token", () => {
    const n = terminateNotice();
    assert.equal(n.id, `${lifecycleKey(TOKEN)}_i-0633ac2b0d9769723`);
    assert.match(lifecycleKey(TOKEN), /^lifecycle-[0-9a-f]{16}$/);
    assert.equal(n.id.includes(TOKEN), false);
    assert.equal(taintValue(n.id).includes(TOKEN), false);
    assert.equal(lifecycleKey(TOKEN), lifecycleKey(TOKEN), "stable across deliveries");
    assert.notEqual(lifecycleKey(TOKEN), lifecycleKey(`${TOKEN}x`));
  });

  test("the token is still there for completing it, and flagged for the owner to complete", () => {
    const n = terminateNotice();
    assert.equal(n.needsCompletion, true);
    assert.equal(lifecycleActionOf(n)?.lifecycleActionToken, TOKEN);
  });

  test("nthd explain shows it redacted", () => {
    const view = fromParsed(
      parseQueueMessage(
        readAwsEvent("sqs/eventbridge/asg-terminate-lifecycle-action.nth-fixture.json"),
        new Date("2030-01-01T00:00:00Z"),
      ),
      "sqs",
    );
    assert.equal(JSON.stringify(view).includes(TOKEN), false);
    assert.equal(view.notices[0]?.detail.lifecycleActionToken, "(redacted)");
  });

  test("no webhook field carries it", () => {
    const n = terminateNotice();
    const data = webhookData(n, { action: "cordon-and-drain", outcome: "drained" });
    assert.equal(JSON.stringify(data).includes(TOKEN), false);
  });
});

/** A LifecycleActions that records calls in order instead of calling AWS. */
function fakeActions(opts: { completeFails?: boolean; unavailableFor?: number } = {}) {
  const calls: string[] = [];
  let unavailable = opts.unavailableFor ?? 0;
  const actions: LifecycleActions = {
    async hookTimeoutSeconds() {
      calls.push("describe");
      return 60;
    },
    async complete(action) {
      calls.push(`complete:${action.lifecycleActionToken}`);
      if (opts.completeFails) throw new Error("not an outage");
      if (unavailable-- > 0) {
        // What the SDK throws when Auto Scaling answers 503.
        throw Object.assign(new Error("Service Unavailable"), {
          name: "ServiceUnavailable",
          $metadata: { httpStatusCode: 503 },
        });
      }
      return "completed";
    },
    async keepAlive(_action, plan: Promise<HeartbeatPlan | undefined>, signal) {
      calls.push("heartbeat");
      const p = await plan;
      calls.push(`plan:${p?.intervalSeconds}`);
      await new Promise<void>((resolve) => {
        if (signal.aborted) resolve();
        else signal.addEventListener("abort", () => resolve(), { once: true });
      });
      calls.push("heartbeats stopped");
    },
  };
  return { actions, calls };
}

const config: QueueConfig = {
  dryRun: false,
  checkTagBeforeDraining: true,
  managedTag: "x",
  deleteSqsMsgIfNodeNotFound: true,
  completeLifecycleActionDelaySeconds: -1,
  completeLaunchLifecycleAction: false,
  heartbeatIntervalSeconds: "auto",
  heartbeatUntilSeconds: 172_800,
  queueHoldMaxSeconds: 3600,
  completeLifecycleActionWithoutNode: true,
  nodeRegistrationWaitSeconds: 90,
};

const drained: NoticeOutcome = {
  result: "handled",
  mayCompleteLifecycleAction: true,
  summary: "drained",
};

describe("the owner's lifecycle duty", () => {
  test("heartbeats at once, before anything else, then completes after the drain", async () => {
    const { actions, calls } = fakeActions();
    const duties = createLifecycleDuties({
      lifecycle: actions,
      config,
      log: pino({ level: "silent" }),
      signal: new AbortController().signal,
    });
    let finishDrain!: (o: NoticeOutcome) => void;
    const done = new Promise<NoticeOutcome>((r) => {
      finishDrain = r;
    });
    const result = duties.handle({
      notice: terminateNotice(),
      nodeName: "n1",
      done,
      signal: new AbortController().signal,
    });
    await new Promise((r) => setImmediate(r));
    assert.equal(calls[0], "heartbeat", "the first call is a heartbeat");
    assert.ok(!calls.some((c) => c.startsWith("complete")), "not completed while draining");
    finishDrain(drained);
    assert.equal(await result, "completed");
    assert.deepEqual(
      calls.filter((c) => c.startsWith("complete")),
      [`complete:${TOKEN}`],
    );
    assert.ok(calls.indexOf("heartbeats stopped") > -1);
    assert.ok(calls.includes("plan:30"), "then every half of the hook's 60 s timeout");
  });

  test("HEARTBEAT_INTERVAL=-1 (NTH's none): no heartbeat and no hook lookup, then completes", async () => {
    const { actions, calls } = fakeActions();
    const duties = createLifecycleDuties({
      lifecycle: actions,
      config: { ...config, heartbeatIntervalSeconds: -1 },
      log: pino({ level: "silent" }),
      signal: new AbortController().signal,
    });
    const result = duties.handle({
      notice: terminateNotice(),
      nodeName: "n1",
      done: Promise.resolve(drained),
      signal: new AbortController().signal,
    });
    assert.equal(await result, "completed");
    assert.deepEqual(calls, [`complete:${TOKEN}`]);
  });

  test("a fixed HEARTBEAT_INTERVAL needs no hook lookup", async () => {
    const { actions, calls } = fakeActions();
    const duties = createLifecycleDuties({
      lifecycle: actions,
      config: { ...config, heartbeatIntervalSeconds: 45 },
      log: pino({ level: "silent" }),
      signal: new AbortController().signal,
    });
    assert.equal(
      await duties.handle({
        notice: terminateNotice(),
        nodeName: "n1",
        done: Promise.resolve(drained),
        signal: new AbortController().signal,
      }),
      "completed",
    );
    assert.equal(calls.includes("describe"), false);
    assert.ok(calls.includes("plan:45"));
  });

  test("a failed drain leaves the action open; so does losing the work", async () => {
    const { actions, calls } = fakeActions();
    const duties = createLifecycleDuties({
      lifecycle: actions,
      config,
      log: pino({ level: "silent" }),
      signal: new AbortController().signal,
    });
    const failed = duties.handle({
      notice: terminateNotice(),
      nodeName: "n1",
      done: Promise.resolve({ result: "retry", mayCompleteLifecycleAction: false, summary: "x" }),
      signal: new AbortController().signal,
    });
    assert.equal(await failed, "open");
    const lost = new AbortController();
    const taken = duties.handle({
      notice: terminateNotice(),
      nodeName: "n1",
      done: new Promise(() => {}),
      signal: lost.signal,
    });
    lost.abort();
    assert.equal(await taken, "open");
    await duties.settled();
    assert.equal(
      calls.some((c) => c.startsWith("complete")),
      false,
    );
  });

  test("Auto Scaling unavailable: the completion is tried again, not left to a redelivery", async () => {
    const { actions, calls } = fakeActions({ unavailableFor: 1 });
    const r = await dutyAfterDrain(actions);
    assert.equal(r, "completed");
    assert.equal(calls.filter((c) => c.startsWith("complete")).length, 2);
  });

  test("an AWS error completing it leaves it open for another try", async () => {
    const { actions } = fakeActions({ completeFails: true });
    const r = await dutyAfterDrain(actions);
    assert.equal(r, "open");
  });
});

/** One terminate notice's duty, its node drained, through duties made on `actions`. */
function dutyAfterDrain(actions: Parameters<typeof createLifecycleDuties>[0]["lifecycle"]) {
  const duties = createLifecycleDuties({
    lifecycle: actions,
    config,
    log: pino({ level: "silent" }),
    signal: new AbortController().signal,
  });
  return duties.handle({
    notice: terminateNotice(),
    nodeName: "n1",
    done: Promise.resolve(drained),
    signal: new AbortController().signal,
  });
}
