// NTH's vocabulary kept where users' alerts, filters and dashboards look for it: the Event
// source component (configurable), the reasons NTH emits, and actions_node_total (opt-in,
// capped).
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { SETTINGS } from "../../src/config/index.ts";
import { STEP_REASONS } from "../../src/drain/events.ts";
import { KIND_POLICY } from "../../src/drain/policy.ts";
import { buildEvent, nodeRef } from "../../src/kube/events.ts";
import { countAction, enableActionsNodeMetric, loadMetrics } from "../../src/observe/metrics.ts";

const NOW = new Date("2026-01-01T00:00:00Z");

describe("Kubernetes Events", () => {
  test("source component: nthd by default, NTH's name when asked", () => {
    const base = { type: "Normal", reason: "Cordon", message: "m" } as const;
    const ours = buildEvent(nodeRef("n1"), base, NOW).event;
    assert.equal(ours.source?.component, "nthd");
    assert.equal(ours.reportingComponent, "nthd");
    const nth = buildEvent(
      nodeRef("n1"),
      { ...base, component: "aws-node-termination-handler" },
      NOW,
    ).event;
    assert.equal(nth.source?.component, "aws-node-termination-handler");
    assert.equal(nth.reportingComponent, "aws-node-termination-handler");
    assert.equal(SETTINGS.kubernetesEventsComponent.default, "nthd");
    assert.deepEqual(SETTINGS.kubernetesEventsComponent.parse("aws-node-termination-handler"), {
      ok: true,
      value: "aws-node-termination-handler",
    });
  });

  test("every reason NTH emits has a place in nthd's vocabulary", () => {
    const reasons = new Set<string>([
      ...Object.values(STEP_REASONS),
      ...Object.values(KIND_POLICY).map((p) => p.eventReason),
    ]);
    for (const nth of [
      "SpotInterruption",
      "RebalanceRecommendation",
      "ScheduledEvent",
      "StateChange",
      "ASGLifecycle",
      "UnknownInterruption",
      "MonitorError",
      "PreDrain",
      "PreDrainError",
      "Cordon",
      "CordonError",
      "CordonAndDrain",
      "CordonAndDrainError",
      "PostDrain",
      "PostDrainError",
      "CancelDrain",
      "CancelDrainError",
      "Uncordon",
      "UncordonError",
      "PodEviction",
    ]) {
      assert.ok(reasons.has(nth), nth);
    }
    // A kind NTH has no name for is reported under NTH's catch-all reason.
    assert.equal(
      KIND_POLICY["capacity-reservation-interruption"].eventReason,
      "UnknownInterruption",
    );
  });
});

describe("actions_node_total", () => {
  test("not counted unless enabled; when enabled, capped at the 1000 newest series", async () => {
    const { registry } = await loadMetrics();
    const series = async () =>
      (
        (await registry.getMetricsAsJSON()).find((m) => m.name === "actions_node_total") as {
          values: { labels: Record<string, string>; value: number }[];
        }
      ).values;
    countAction("spot-interruption", "cordon", "success", { nodeName: "n0", eventId: "e0" });
    assert.equal((await series()).length, 0, "off by default");

    enableActionsNodeMetric(true);
    try {
      for (let i = 0; i < 1005; i++) {
        countAction("spot-interruption", "cordon", "success", {
          nodeName: `n${i}`,
          eventId: `e${i}`,
        });
      }
      countAction("spot-interruption", "cordon", "success", {
        nodeName: "n1004",
        eventId: "e1004",
      });
      const values = await series();
      assert.equal(values.length, 1000);
      assert.equal(
        values.some((v) => v.labels.node_name === "n0"),
        false,
        "oldest dropped",
      );
      const newest = values.find((v) => v.labels.node_name === "n1004");
      assert.deepEqual(newest?.labels, {
        node_action: "cordon",
        node_name: "n1004",
        node_event_id: "e1004",
        node_status: "success",
      });
      assert.equal(newest?.value, 2);
    } finally {
      enableActionsNodeMetric(false);
    }
  });
});
