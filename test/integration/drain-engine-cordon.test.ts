// The drain engine's marks on the node, on the test ground: the cordon,
// taint, labels and record written in one step (also over a stale cached copy
// of the node), Kubernetes Events, and a dry run that writes nothing.
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { LB_EXCLUDE_LABEL, readRecord, STATE_LABEL } from "../../src/drain/record.ts";
import {
  core,
  drainGround,
  groundNotices,
  nodeEventReasons,
  nodeOf,
  runningPods,
} from "../env/drain-ground.ts";
import { eventually } from "../support/eventually.ts";
import { MERGE_PATCH } from "../support/merge-patch.ts";

const g = drainGround("drain", { deadlineSafetyMarginSeconds: 2 });
const notice = groundNotices(g);

describe("drain engine on the test ground: marks on the node", {
  concurrency: true,
  timeout: 240_000,
}, () => {
  test("cordons, taints, labels and records in one step, drains, and tells Events", async () => {
    const { ns, node } = await g.nodeRunning("web", 2);
    const e = g.engine({
      taintNode: true,
      excludeFromLoadBalancers: true,
      emitKubernetesEvents: true,
    });
    const n = notice({ detail: { lifecycleHookName: "hook-1", autoScalingGroupName: "asg-1" } });
    const { recorded, done } = e.handle(n, node);
    await recorded;
    const marked = await nodeOf(node);
    assert.equal(marked.spec?.unschedulable, true);
    const taint = marked.spec?.taints?.find(
      (t) => t.key === "aws-node-termination-handler/spot-itn",
    );
    assert.equal(taint?.effect, "NoSchedule");
    assert.equal(marked.metadata?.labels?.[LB_EXCLUDE_LABEL], "nthd");
    const record = readRecord(marked);
    assert.ok(record.ok && record.record, "record annotation present and valid");
    assert.equal(record.record.notices[0]?.id, n.id);
    assert.deepEqual(record.record.notices[0]?.detail, n.detail);
    assert.equal(record.record.cordoned, true);

    const report = await done;
    assert.equal(report.result, "drained", report.message);
    assert.equal(report.pods.filter((p) => p.outcome === "evicted").length, 2);
    assert.equal((await nodeOf(node)).metadata?.labels?.[STATE_LABEL], "drained");

    const reasons = await eventually("node Events", async () => {
      const found = await nodeEventReasons(node);
      return ["SpotInterruption", "Cordon", "CordonAndDrain"].every((r) => found.has(r))
        ? found
        : undefined;
    });
    assert.ok(reasons.has("CordonAndDrain"));
    const podEvents = await core.listNamespacedEvent({
      namespace: ns,
      fieldSelector: "reason=PodEviction",
    });
    assert.ok(podEvents.items.every((ev) => ev.source?.component === "nthd"));
  });

  test("a cordon built on a stale cached copy of the node keeps a taint added since", async () => {
    const { nodes } = await g.setup(1);
    const node = nodes[0] as string;
    // The informer's copy, then a change it has not seen yet.
    const stale = await nodeOf(node);
    await core.patchNode(
      {
        name: node,
        body: { spec: { taints: [{ key: "example.com/other", effect: "NoSchedule" }] } },
      },
      MERGE_PATCH,
    );
    const e = g.engine({ taintNode: true });
    let cacheReads = 0;
    e.useNodeCache({
      byName: (name) => {
        cacheReads++;
        return name === node ? stale : undefined;
      },
    });
    const { recorded } = e.handle(
      notice({ action: "cordon", kind: "rebalance-recommendation" }),
      node,
    );
    await recorded;
    assert.equal(cacheReads, 1, "the cordon looked at the cached copy");
    const marked = await nodeOf(node);
    assert.equal(marked.spec?.unschedulable, true);
    // The node controller may add node.kubernetes.io/unschedulable of its own.
    const keys = (marked.spec?.taints ?? []).map((t) => t.key);
    assert.ok(keys.includes("example.com/other"), `taint added since kept: ${keys}`);
    assert.ok(keys.includes("aws-node-termination-handler/rebalance-recommendation"), `${keys}`);
  });

  test("dry run reads and plans but writes nothing", async () => {
    const { ns, node } = await g.nodeRunning("web", 2);
    const before = await nodeOf(node);
    const e = g.engine({
      dryRun: true,
      taintNode: true,
      emitKubernetesEvents: true,
      excludeFromLoadBalancers: true,
    });
    const report = await e.handle(notice(), node).done;
    assert.equal(report.result, "dry-run");
    assert.equal(report.pods.filter((p) => p.outcome === "planned").length, 2);
    const afterNode = await nodeOf(node);
    assert.equal(afterNode.spec?.unschedulable, before.spec?.unschedulable);
    assert.deepEqual(afterNode.spec?.taints ?? [], before.spec?.taints ?? []);
    assert.deepEqual(afterNode.metadata?.labels, before.metadata?.labels);
    assert.deepEqual(afterNode.metadata?.annotations, before.metadata?.annotations);
    assert.equal((await runningPods(ns, "web")).length, 2);
    const evs = await core.listNamespacedEvent({
      namespace: "default",
      fieldSelector: `involvedObject.name=${node},source=nthd`,
    });
    assert.equal(evs.items.length, 0);
  });
});
