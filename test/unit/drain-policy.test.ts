import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { actionFor, eventType, KIND_POLICY, sameFamily } from "../../src/drain/policy.ts";
import {
  joinPatch,
  LB_EXCLUDE_LABEL,
  markPatch,
  OUT_OF_SERVICE_TAINT,
  outOfServicePatch,
  RECORD_ANNOTATION,
  readRecord,
  recordToNotice,
  releasePatch,
  STATE_LABEL,
  taintValue,
} from "../../src/drain/record.ts";
import { summarize } from "../../src/drain/report.ts";
import { NOTICE_KINDS } from "../../src/notice.ts";
import { testConfig } from "../support/config.ts";
import { applyMergePatch } from "../support/merge-patch.ts";
import { node } from "../support/nodes.ts";
import { NOW, noticeBuilder } from "../support/notices.ts";

const DEADLINE = new Date("2026-03-01T12:02:00Z");

const notice = noticeBuilder({
  id: "spot-itn-1234",
  detail: { lifecycleHookName: "hook", lifecycleActionToken: "tok" },
});

const SETTINGS = testConfig({ taintNode: true, excludeFromLoadBalancers: true });

describe("policy table", () => {
  test("every kind has a reason; NTH taint keys and reasons where NTH had them", () => {
    for (const kind of NOTICE_KINDS)
      assert.match(KIND_POLICY[kind].eventReason, /^[A-Z][A-Za-z]+$/);
    assert.equal(
      KIND_POLICY["spot-interruption"].taintKey,
      "aws-node-termination-handler/spot-itn",
    );
    assert.equal(
      KIND_POLICY["asg-terminate"].taintKey,
      "aws-node-termination-handler/asg-lifecycle-termination",
    );
    assert.equal(KIND_POLICY["health-scheduled-change"].eventReason, "ScheduledEvent");
    assert.equal(KIND_POLICY["instance-state-change"].eventReason, "StateChange");
    assert.equal(KIND_POLICY["asg-launch"].taintKey, null);
    assert.equal(eventType("rebalance-recommendation"), "Normal");
    assert.equal(eventType("spot-interruption"), "Warning");
  });

  test("actionFor applies cordon-only and rebalance draining", () => {
    const cfg = { cordonOnly: false, enableRebalanceDraining: false };
    const imds = "imds" as const;
    assert.equal(
      actionFor({ kind: "spot-interruption", action: "drain", source: imds }, cfg),
      "drain",
    );
    assert.equal(
      actionFor(
        { kind: "spot-interruption", action: "drain", source: imds },
        { ...cfg, cordonOnly: true },
      ),
      "cordon",
    );
    assert.equal(
      actionFor({ kind: "rebalance-recommendation", action: "drain", source: imds }, cfg),
      "cordon",
    );
    assert.equal(
      actionFor(
        { kind: "rebalance-recommendation", action: "drain", source: imds },
        { ...cfg, enableRebalanceDraining: true },
      ),
      "drain",
    );
    // What both sources actually send for a rebalance recommendation: a cordon.
    const rebalance = { kind: "rebalance-recommendation", action: "cordon", source: imds } as const;
    assert.equal(actionFor(rebalance, cfg), "cordon");
    assert.equal(actionFor(rebalance, { ...cfg, enableRebalanceDraining: true }), "drain");
    assert.equal(
      actionFor(rebalance, { cordonOnly: true, enableRebalanceDraining: true }),
      "cordon",
    );
    assert.equal(
      actionFor(
        { kind: "spot-interruption", action: "cordon", source: imds },
        { ...cfg, enableRebalanceDraining: true },
      ),
      "cordon",
    );
    assert.equal(
      actionFor(
        { kind: "scheduled-maintenance", action: "uncordon", source: imds },
        { ...cfg, cordonOnly: true },
      ),
      "uncordon",
    );
    assert.equal(
      actionFor({ kind: "asg-launch", action: "complete-launch", source: "queue" }, cfg),
      "none",
    );
  });

  test("from the queue a rebalance recommendation drains, as NTH's queue processor does", () => {
    const cfg = { cordonOnly: false, enableRebalanceDraining: false };
    const queued = { kind: "rebalance-recommendation", action: "cordon", source: "queue" } as const;
    assert.equal(actionFor(queued, cfg), "drain");
    assert.equal(actionFor(queued, { ...cfg, cordonOnly: true }), "cordon");
  });

  test("cancel families follow the taint key", () => {
    assert.equal(sameFamily("scheduled-maintenance", "health-scheduled-change"), true);
    assert.equal(sameFamily("spot-interruption", "scheduled-maintenance"), false);
    assert.equal(sameFamily("asg-launch", "asg-launch"), true);
  });
});

describe("node record", () => {
  test("one patch cordons, taints, labels and records; the record round-trips the notice", () => {
    const n = node({ taints: [{ key: "other", effect: "NoSchedule" }] });
    const { patch, record } = markPatch(n, notice(), "drain", DEADLINE, SETTINGS, NOW);
    const after = applyMergePatch(n, patch);
    assert.equal(after.spec?.unschedulable, true);
    assert.deepEqual(
      after.spec?.taints?.map((t) => [t.key, t.value, t.effect]),
      [
        ["other", undefined, "NoSchedule"],
        ["aws-node-termination-handler/spot-itn", "spot-itn-1234", "NoSchedule"],
      ],
    );
    assert.equal(after.metadata?.labels?.[STATE_LABEL], "draining");
    assert.equal(after.metadata?.labels?.[LB_EXCLUDE_LABEL], "nthd");
    assert.equal(after.metadata?.resourceVersion, "42");
    const read = readRecord(after);
    assert.ok(read.ok && read.record);
    assert.deepEqual(read.record, record);
    assert.equal(record.cordoned, true);
    const first = record.notices[0];
    assert.ok(first);
    assert.deepEqual(recordToNotice(first), notice());
  });

  test("an operator's cordon, an existing taint and someone else's LB label are not claimed", () => {
    const n = node({
      unschedulable: true,
      taints: [{ key: "aws-node-termination-handler/spot-itn", effect: "NoSchedule" }],
      labels: { [LB_EXCLUDE_LABEL]: "ops" },
    });
    const { patch, record } = markPatch(n, notice(), "drain", DEADLINE, SETTINGS, NOW);
    assert.equal(record.cordoned, false);
    assert.deepEqual(record.taints, []);
    assert.equal(record.lbExcluded, false);
    const released = applyMergePatch(
      applyMergePatch(n, patch),
      releasePatch(applyMergePatch(n, patch), record),
    );
    assert.equal(released.spec?.unschedulable, true, "operator's cordon stays");
    assert.equal(released.spec?.taints?.length, 1);
    assert.equal(released.metadata?.labels?.[LB_EXCLUDE_LABEL], "ops");
    assert.equal(released.metadata?.annotations?.[RECORD_ANNOTATION], undefined);
    assert.equal(released.metadata?.labels?.[STATE_LABEL], undefined);
  });

  test("release undoes exactly what nthd did, out-of-service taint included", () => {
    const n = node();
    const marked = markPatch(n, notice(), "drain", DEADLINE, SETTINGS, NOW);
    let current = applyMergePatch(n, marked.patch);
    current = applyMergePatch(current, outOfServicePatch(current, marked.record));
    assert.ok(current.spec?.taints?.some((t) => t.key === OUT_OF_SERVICE_TAINT.key));
    const read = readRecord(current);
    assert.ok(read.ok && read.record?.outOfService);
    const released = applyMergePatch(current, releasePatch(current, read.record));
    assert.equal(released.spec?.unschedulable, undefined);
    assert.equal(released.spec?.taints, undefined);
    assert.equal(released.metadata?.labels?.[LB_EXCLUDE_LABEL], undefined);
  });

  test("a drain after a rebalance cordon keeps the earlier facts and adds the new notice", () => {
    const n = node();
    const first = markPatch(
      n,
      notice({ id: "rebal-1", kind: "rebalance-recommendation" }),
      "cordon",
      DEADLINE,
      SETTINGS,
      NOW,
    );
    const after = applyMergePatch(n, first.patch);
    const second = markPatch(after, notice(), "drain", DEADLINE, SETTINGS, NOW, first.record);
    assert.equal(second.record.cordoned, true, "nthd's own cordon from the first notice");
    assert.deepEqual(
      second.record.notices.map((x) => x.id),
      ["rebal-1", "spot-itn-1234"],
    );
    assert.deepEqual(second.record.taints, [
      "aws-node-termination-handler/rebalance-recommendation",
      "aws-node-termination-handler/spot-itn",
    ]);
    assert.equal(second.record.action, "drain");
  });

  test("joining adds the notice once and only brings the deadline forward", () => {
    const n = node();
    const { record, patch } = markPatch(n, notice(), "drain", DEADLINE, SETTINGS, NOW);
    const marked = applyMergePatch(n, patch);
    const sooner = new Date(DEADLINE.getTime() - 60_000);
    const joined = applyMergePatch(
      marked,
      joinPatch(marked, record, notice({ id: "asg-1", kind: "asg-terminate" }), sooner),
    );
    const read = readRecord(joined);
    assert.ok(read.ok && read.record);
    assert.deepEqual(
      read.record.notices.map((x) => x.id),
      ["spot-itn-1234", "asg-1"],
    );
    assert.equal(read.record.deadline, sooner.toISOString());
    assert.equal(joinPatch(joined, read.record, notice({ id: "asg-1" })), null);
  });

  test("damaged records are reported, not thrown", () => {
    const bad = readRecord(node({ annotations: { [RECORD_ANNOTATION]: "{not json" } }));
    assert.equal(bad.ok, false);
    const wrong = readRecord(node({ annotations: { [RECORD_ANNOTATION]: '{"v":2}' } }));
    assert.equal(wrong.ok, false);
    assert.deepEqual(readRecord(node()), { ok: true, record: undefined });
  });

  test("taint values are valid label values", () => {
    assert.equal(taintValue("spot-itn-abc"), "spot-itn-abc");
    assert.equal(
      taintValue("arn:aws:health:us-east-1::event/EC2/x"),
      "arn-aws-health-us-east-1--event-EC2-x",
    );
    assert.equal(taintValue(`${"a".repeat(70)}`).length, 63);
    assert.equal(taintValue("--x--"), "x");
  });
});

describe("report summary", () => {
  test("a deadline report names each pod left and why", () => {
    const msg = summarize(
      "deadline-exceeded",
      [
        {
          pod: { namespace: "app", name: "web-1" },
          outcome: "blocked",
          pdb: "app/web",
          refusals: 7,
          reason: "Cannot evict pod as it would violate the pod's disruption budget.",
        },
        {
          pod: { namespace: "app", name: "slow-0" },
          outcome: "terminating",
          gracePeriodSeconds: 80,
        },
        { pod: { namespace: "app", name: "ok-0" }, outcome: "evicted" },
        {
          pod: { namespace: "kube-system", name: "agent" },
          outcome: "skipped",
          reason: "DaemonSet",
        },
      ],
      DEADLINE,
    );
    assert.match(msg, /2 pod\(s\) left/);
    assert.match(msg, /app\/web-1 refused by PodDisruptionBudget app\/web 7 times/);
    assert.match(msg, /app\/slow-0 evicted with 80 s grace, still terminating/);
    assert.match(msg, /1 evicted, 0 already gone, 1 skipped/);
  });
});
