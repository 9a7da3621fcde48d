// The drain engine's evictions on the test ground: through the Eviction API
// with PodDisruptionBudget refusals (429) retried, grace periods capped by the
// deadline, and a budget that never allows eviction blocking only its pods.
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { STATE_LABEL } from "../../src/drain/record.ts";
import {
  apps,
  core,
  drainGround,
  groundNotices,
  nodeOf,
  observePods,
  pdb,
  pdbBlockedCount,
  policy,
  readyCount,
} from "../env/drain-ground.ts";
import { deployPinned } from "../env/ground.ts";
import { eventually } from "../support/eventually.ts";
import { MERGE_PATCH } from "../support/merge-patch.ts";

const g = drainGround("drain", { deadlineSafetyMarginSeconds: 2 });
const notice = groundNotices(g);

describe("drain engine on the test ground: evictions", {
  concurrency: true,
  timeout: 240_000,
}, () => {
  test("a PDB allowing one disruption: every pod evicted, never more than one at a time, 429s retried", async () => {
    const { ns, nodes, label } = await g.setup(1);
    const node = nodes[0] as string;
    await deployPinned(ns, "web", { replicas: 3, nodeSelector: label, graceSeconds: 2 });
    await readyCount(ns, "web", 3);
    // A budget that allows nothing yet: every eviction is refused (429)
    // until the test relaxes it, so the retry path runs every time.
    await pdb(ns, "web", 3, 0);
    // A DaemonSet pod on the node stays (ignore-daemon-sets=true).
    await apps.createNamespacedDaemonSet({
      namespace: ns,
      body: {
        metadata: { name: "logd" },
        spec: {
          selector: { matchLabels: { app: "logd" } },
          template: {
            metadata: { labels: { app: "logd" } },
            spec: {
              nodeSelector: { "kubernetes.io/hostname": node },
              containers: [{ name: "a", image: "registry.invalid/logd:1" }],
            },
          },
        },
      },
    });
    await readyCount(ns, "logd", 1);
    // Replacements need somewhere to go once the node is cordoned.
    await g.addNode(label);
    const watch = await observePods(ns);
    try {
      await watch.arm("web", 3);
      const e = g.engine();
      // A kind no other test here uses, so the refusal counter is this test's alone.
      const kind = "capacity-reservation-interruption";
      const blockedBefore = await pdbBlockedCount(kind);
      const running = e.handle(
        notice({ kind, deadline: new Date(Date.now() + 120_000) }),
        node,
      ).done;
      await eventually("nthd refused by the PDB", async () =>
        (await pdbBlockedCount(kind)) > blockedBefore ? true : undefined,
      );
      await policy.patchNamespacedPodDisruptionBudget(
        { name: "web", namespace: ns, body: { spec: { minAvailable: 2 } } },
        MERGE_PATCH,
      );
      const report = await running;
      assert.equal(report.result, "drained", report.message);
      const web = report.pods.filter((p) => p.pod.name.startsWith("web-"));
      const seen = JSON.stringify(report.pods);
      assert.equal(web.length, 3, seen);
      assert.ok(
        web.every((p) => p.outcome === "evicted" && p.pdb === `${ns}/web`),
        seen,
      );
      const refusals = web.reduce((sum, p) => sum + (p.refusals ?? 0), 0);
      assert.ok(refusals > 0, `later evictions were refused by the PDB and retried: ${seen}`);
      const logd = report.pods.find((p) => p.pod.name.startsWith("logd-"));
      assert.equal(logd?.outcome, "skipped");
      assert.match(logd?.reason ?? "", /ignore-daemon-sets/);
      // How many pods stayed healthy is the API server's guarantee (the
      // Eviction API and the disruption controller), not nthd's, and its
      // timing varies with load: the test checks nthd's part, above: it only
      // evicted through the Eviction API and retried the PDB's refusals.
      const left = await core.listNamespacedPod({
        namespace: ns,
        fieldSelector: `spec.nodeName=${node}`,
      });
      assert.deepEqual(
        left.items.map((p) => p.metadata?.labels?.app),
        ["logd"],
        seen,
      );
    } finally {
      watch.stop();
    }
  });

  test("grace periods are capped to the time left before the deadline", async () => {
    const { ns, node } = await g.nodeRunning("slow", 1, { graceSeconds: 600 });
    const watch = await observePods(ns);
    try {
      const e = g.engine({ deadlineSafetyMarginSeconds: 5 });
      const report = await e.handle(notice({ deadline: new Date(Date.now() + 25_000) }), node).done;
      const slow = report.pods.find((p) => p.pod.name.startsWith("slow-"));
      assert.ok(
        slow?.gracePeriodSeconds !== undefined && slow.gracePeriodSeconds <= 20,
        `grace ${slow?.gracePeriodSeconds}`,
      );
      // What the API server recorded from the eviction request itself.
      const carried = watch.grace.get(slow.pod.name);
      assert.ok(carried !== undefined && carried <= 20, `deletionGracePeriodSeconds ${carried}`);
    } finally {
      watch.stop();
    }
  });

  test("a PDB that never allows eviction blocks only its pods; the report names them", async () => {
    const { ns, nodes } = await g.setup(1);
    const node = nodes[0] as string;
    const here = { "kubernetes.io/hostname": node };
    await deployPinned(ns, "db", { replicas: 2, nodeSelector: here });
    await deployPinned(ns, "web", { replicas: 1, nodeSelector: here });
    await readyCount(ns, "db", 2);
    await readyCount(ns, "web", 1);
    await pdb(ns, "db", 2, 0);
    const e = g.engine();
    const report = await e.handle(notice({ deadline: new Date(Date.now() + 12_000) }), node).done;
    assert.equal(report.result, "deadline-exceeded");
    const blocked = report.pods.filter((p) => p.outcome === "blocked");
    assert.deepEqual(
      blocked.map((p) => p.pod.name.split("-")[0]),
      ["db", "db"],
    );
    for (const p of blocked) {
      assert.ok(report.message.includes(`${ns}/${p.pod.name}`), "each blocked pod named");
      assert.ok(report.message.includes(`${ns}/db`), "with its PDB");
    }
    assert.equal(report.pods.find((p) => p.pod.name.startsWith("web-"))?.outcome, "evicted");
    const after = await nodeOf(node);
    assert.equal(after.spec?.unschedulable, true, "node stays cordoned");
    assert.equal(after.metadata?.labels?.[STATE_LABEL], "incomplete");
  });
});
