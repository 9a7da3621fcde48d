import assert from "node:assert/strict";
import { beforeEach, describe, it } from "node:test";
import { NOTICE_KINDS } from "../../src/notice.ts";
import { poolValue } from "../../src/observe/labels.ts";
import {
  countAction,
  countDrain,
  countImdsError,
  countInterruption,
  loadMetrics,
  observeCordoned,
} from "../../src/observe/metrics.ts";
import { noticeBuilder } from "../support/notices.ts";

const { registry } = await loadMetrics();

type Family = {
  name: string;
  type: string;
  values: { labels: Record<string, string | number>; value: number; metricName?: string }[];
};

async function family(name: string): Promise<Family> {
  const all = (await registry.getMetricsAsJSON()) as unknown as Family[];
  const found = all.find((f) => f.name === name);
  assert.ok(found, `metric ${name} is registered`);
  return found;
}

function sample(f: Family, labels: Record<string, string>): number | undefined {
  return f.values.find((v) => Object.entries(labels).every(([k, x]) => v.labels[k] === x))?.value;
}

const notice = noticeBuilder({
  id: "evt-1",
  receivedAt: new Date("2024-05-01T10:00:10Z"),
  deadline: undefined,
});

describe("metrics registry", () => {
  beforeEach(() => registry.resetMetrics());

  it("exports NTH's compatible families with NTH's label names", () => {
    const nthActions = registry.getSingleMetric("actions_total") as unknown as {
      labelNames: string[];
    };
    assert.deepEqual(nthActions.labelNames, ["node_action", "node_status"]);
    const errors = registry.getSingleMetric("events_error_total") as unknown as {
      labelNames: string[];
    };
    assert.deepEqual(errors.labelNames, ["event_error_where"]);
    assert.ok(registry.getSingleMetric("nth_tagged_nodes"));
    assert.ok(registry.getSingleMetric("nth_tagged_instances"));
    // Per-node, per-event series: declared with NTH's labels, counted only when enabled
    // (test/unit/nth-vocabulary.test.ts).
    const perNode = registry.getSingleMetric("actions_node_total") as unknown as {
      labelNames: string[];
    };
    assert.deepEqual(perNode.labelNames, [
      "node_action",
      "node_name",
      "node_event_id",
      "node_status",
    ]);
  });

  it("has help text on every family and no per-pod, per-node or per-message label", async () => {
    const forbidden =
      /^(node|node_name|pod|pod_name|instance_id|event_id|node_event_id|message_id|notice_id)$/;
    for (const m of registry.getMetricsAsArray()) {
      const metric = m as unknown as { name: string; help: string; labelNames: string[] };
      assert.ok(metric.help.length > 10, `${metric.name} has help text`);
      // NTH's opt-in per-node counter is the one exception, capped in metrics.ts.
      if (metric.name === "actions_node_total") continue;
      for (const label of metric.labelNames) {
        assert.doesNotMatch(label, forbidden, `${metric.name} has bounded labels`);
      }
    }
  });

  it("countAction counts nthd's action and, except in dry-run, NTH's actions_total", async () => {
    countAction("spot-interruption", "cordon-and-drain", "success");
    countAction("spot-interruption", "cordon-and-drain", "dry-run");
    countAction("asg-launch", "complete-launch", "success");
    const nthd = await family("nthd_actions_total");
    assert.equal(
      sample(nthd, { kind: "spot-interruption", action: "cordon-and-drain", result: "success" }),
      1,
    );
    assert.equal(
      sample(nthd, { kind: "spot-interruption", action: "cordon-and-drain", result: "dry-run" }),
      1,
    );
    const nth = await family("actions_total");
    assert.equal(sample(nth, { node_action: "cordon-and-drain", node_status: "success" }), 1);
    assert.equal(nth.values.length, 1, "dry-run and complete-launch are not NTH actions");
  });

  it("countImdsError counts the request and NTH's events_error_total under the monitor name", async () => {
    countImdsError("scheduled-events", "timeout");
    assert.equal(
      sample(await family("nthd_imds_request_errors_total"), {
        monitor: "scheduled-events",
        reason: "timeout",
      }),
      1,
    );
    assert.equal(
      sample(await family("events_error_total"), { event_error_where: "SCHEDULED_EVENT_MONITOR" }),
      1,
    );
  });

  it("countDrain records failures by reason, completed drains only by outcome", async () => {
    countDrain("asg-terminate", "completed");
    countDrain("spot-interruption", "deadline-exceeded", "pdb-blocked");
    assert.equal(
      sample(await family("nthd_drains_total"), {
        kind: "spot-interruption",
        outcome: "deadline-exceeded",
      }),
      1,
    );
    const failures = await family("nthd_drain_failures_total");
    assert.deepEqual(
      failures.values.map((v) => [v.labels.reason, v.value]),
      [["pdb-blocked", 1]],
    );
  });

  it("observeCordoned measures from AWS's event time when known, else receipt", async () => {
    const at = new Date("2024-05-01T10:00:12Z");
    observeCordoned(notice({ eventTime: new Date("2024-05-01T10:00:00Z") }), at); // 12 s
    observeCordoned(notice(), at); // 2 s
    observeCordoned(notice({ eventTime: new Date("2024-05-01T10:01:00Z") }), at); // skew: 0
    const h = await family("nthd_notice_to_cordon_seconds");
    const sum = h.values.find((v) => v.metricName === "nthd_notice_to_cordon_seconds_sum");
    assert.equal(sum?.value, 14);
    const le120 = h.values.find((v) => v.metricName?.endsWith("_bucket") && v.labels.le === 120);
    assert.equal(le120?.value, 3);
  });

  it("interruption pool labels are sanitised: empty is 'unknown', long values are capped", async () => {
    countInterruption("spot-interruption", {
      instanceType: "m5.large",
      availabilityZone: " ",
      asg: "x".repeat(300),
      capacityType: "spot",
    });
    const f = await family("nthd_interruptions_total");
    const labels = f.values[0]?.labels;
    assert.equal(labels?.instance_type, "m5.large");
    assert.equal(labels?.availability_zone, "unknown");
    assert.equal(String(labels?.asg).length, 128);
    assert.equal(poolValue(undefined), "unknown");
  });

  it("notice kinds are the label vocabulary (every kind is accepted as a label value)", async () => {
    for (const kind of NOTICE_KINDS) countAction(kind, "cordon", "success");
    const f = await family("nthd_actions_total");
    assert.deepEqual(new Set(f.values.map((v) => v.labels.kind)), new Set(NOTICE_KINDS));
  });
});
