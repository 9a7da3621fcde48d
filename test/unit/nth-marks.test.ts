// Nodes aws-node-termination-handler marked for a scheduled reboot: the pure decision nthd
// takes at IMDS mode start-up, and the uptime file it reads.
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import type { V1Node } from "@kubernetes/client-node";
import {
  decideAfterReboot,
  NTH_ACTION_LABEL,
  NTH_ACTION_TIME_LABEL,
  NTH_EVENT_ID_LABEL,
} from "../../src/drain/nth-marks.ts";
import { parseUptime } from "../../src/modes/uptime.ts";

const NOW = 1_800_000_000;
const LB = "node.kubernetes.io/exclude-from-external-load-balancers";

function marked(extra: Partial<V1Node["spec"]> = {}, labels: Record<string, string> = {}): V1Node {
  return {
    metadata: {
      name: "n1",
      resourceVersion: "42",
      labels: {
        [NTH_ACTION_LABEL]: "UncordonAfterReboot",
        [NTH_ACTION_TIME_LABEL]: String(NOW - 600),
        [NTH_EVENT_ID_LABEL]: "instance-event-0d59937288b749b32",
        [LB]: "aws-node-termination-handler",
        team: "a",
        ...labels,
      },
    },
    spec: {
      unschedulable: true,
      taints: [
        { key: "aws-node-termination-handler/scheduled-maintenance", effect: "NoSchedule" },
        { key: "dedicated", value: "x", effect: "NoSchedule" },
      ],
      ...extra,
    },
  };
}

describe("a node NTH cordoned for a scheduled reboot", () => {
  test("rebooted (uptime shorter than the time since NTH acted): released completely", () => {
    const d = decideAfterReboot(marked(), NOW, 120);
    assert.equal(d.kind, "release");
    assert.ok(d.kind === "release");
    assert.equal(d.eventId, "instance-event-0d59937288b749b32");
    assert.deepEqual(d.patch, {
      metadata: {
        resourceVersion: "42",
        labels: {
          [NTH_ACTION_LABEL]: null,
          [NTH_ACTION_TIME_LABEL]: null,
          [NTH_EVENT_ID_LABEL]: null,
          [LB]: null,
        },
      },
      spec: {
        unschedulable: null,
        taints: [{ key: "dedicated", value: "x", effect: "NoSchedule" }],
      },
    });
  });

  test("not rebooted yet (uptime longer than the time since NTH acted): waits", () => {
    assert.deepEqual(decideAfterReboot(marked(), NOW, 3600), {
      kind: "waiting",
      secondsSinceAction: 600,
      uptimeSeconds: 3600,
    });
  });

  test("a node nthd holds for its own work keeps its cordon and taints; only NTH's labels go", () => {
    const node = marked();
    (node.metadata as { annotations?: Record<string, string> }).annotations = {
      "nthd/record": "{}",
    };
    const d = decideAfterReboot(node, NOW, 10);
    assert.ok(d.kind === "release");
    assert.deepEqual(d.patch.spec, {});
  });

  test("someone else's load-balancer exclusion stays", () => {
    const d = decideAfterReboot(marked({}, { [LB]: "ops" }), NOW, 10);
    assert.ok(d.kind === "release");
    const labels = (d.patch.metadata as { labels: Record<string, null> }).labels;
    assert.equal(LB in labels, false);
  });

  test("no mark, another action, or an unreadable time: nothing is changed", () => {
    assert.deepEqual(decideAfterReboot({ metadata: { name: "n" } }, NOW, 10), { kind: "none" });
    assert.equal(
      decideAfterReboot(marked({}, { [NTH_ACTION_LABEL]: "Other" }), NOW, 10).kind,
      "none",
    );
    assert.equal(
      decideAfterReboot(marked({}, { [NTH_ACTION_TIME_LABEL]: "soon" }), NOW, 10).kind,
      "unreadable",
    );
  });
});

describe("uptime file", () => {
  test("the first number of /proc/uptime", () => {
    assert.equal(parseUptime("350735.47 234388.90\n"), 350735.47);
    assert.equal(parseUptime("12 1"), 12);
    assert.equal(parseUptime(""), undefined);
    assert.equal(parseUptime("up 3 days"), undefined);
  });
});
