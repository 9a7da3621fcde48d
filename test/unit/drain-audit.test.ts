import assert from "node:assert/strict";
import { describe, test } from "node:test";
import type { V1Node, V1Pod, V1PodDisruptionBudget } from "@kubernetes/client-node";
import {
  type AuditOptions,
  auditNode,
  auditTogether,
  prepareAudit,
  togetherGroups,
  worstTogether,
} from "../../src/drain/audit.ts";
import { BLOCKER_CODES, type Blocker } from "../../src/drain/audit-findings.ts";
import { auditNoticeSeconds } from "../../src/drain/audit-notice.ts";
import { createSnapshotBuilder, slimNode } from "../../src/drain/audit-snapshot.ts";
import type { PlanSettings } from "../../src/drain/planner.ts";
import { node, pdb, pod } from "../support/audit-cluster.ts";

const SETTINGS: PlanSettings = {
  ignoreDaemonSets: true,
  deleteLocalData: true,
  evictUnmanagedPods: true,
  podName: "",
  podNamespace: "",
  podTerminationGracePeriodSeconds: -1,
  deadlineSafetyMarginSeconds: 10,
};

interface Over {
  readonly settings?: Partial<PlanSettings>;
  readonly model?: Partial<AuditOptions["model"]>;
}

function options(over: Over = {}): AuditOptions {
  return {
    noticeSeconds: 120,
    podStartupSeconds: 10,
    now: new Date("2026-01-01T00:00:00Z"),
    settings: { ...SETTINGS, ...over.settings },
    model: {
      startSeconds: 2,
      cordonsPerSecond: 25,
      maxConcurrentDrains: 100,
      qps: 50,
      burst: 100,
      ...over.model,
    },
  };
}

function cluster(nodes: V1Node[], pods: V1Pod[], pdbs: V1PodDisruptionBudget[] = []) {
  const b = createSnapshotBuilder(nodes.map(slimNode));
  for (const p of pods) b.addPod(p);
  for (const p of pdbs) b.addPdb(p);
  return b.build();
}

function audit(pods: V1Pod[], pdbs: V1PodDisruptionBudget[] = [], over: Over = {}) {
  const snapshot = cluster([node("n1"), node("n2")], pods, pdbs);
  const p = prepareAudit(snapshot, options(over));
  return auditNode(p, snapshot.nodes[0] as (typeof snapshot.nodes)[0]);
}

const only = (blockers: readonly Blocker[], code: Blocker["code"]): Blocker => {
  assert.deepEqual(
    blockers.map((b) => b.code),
    [code],
    JSON.stringify(blockers, null, 1),
  );
  return blockers[0] as Blocker;
};

describe("drain audit: one node on its own", () => {
  test("plain Deployment pods drain in time", () => {
    const v = audit([pod("web-1", { grace: 5 }), pod("web-2", { grace: 5 })]);
    assert.equal(v.verdict, "in-time");
    assert.deepEqual(v.blockers, []);
    assert.equal(v.drainedSeconds, 7);
    assert.deepEqual(v.pods, { evict: 2, skip: 0, clean: 2, cut: 0, left: 0 });
    assert.equal(v.pool.availabilityZone, "us-east-1a");
    assert.equal(v.pool.capacityType, "spot");
  });

  test("a PDB at maxUnavailable 0 is named with its allowed disruptions and the fix", () => {
    const v = audit(
      [pod("frozen-1", { app: "frozen" }), pod("frozen-2", { app: "frozen", node: "n2" })],
      [pdb("frozen", "frozen", { allowed: 0, maxUnavailable: 0, healthy: 2, expected: 2 })],
    );
    assert.equal(v.verdict, "at-risk");
    assert.equal(v.drainedSeconds, undefined);
    const b = only(v.blockers, "pdb-no-headroom");
    assert.equal(b.object, "PodDisruptionBudget shop/frozen");
    assert.deepEqual(b.pods, ["shop/frozen-1"]);
    assert.match(b.detail, /allows 0 disruptions \(maxUnavailable 0; 2 of 2 pods healthy/);
    assert.match(b.fix, /set maxUnavailable to 1 or more/);
  });

  test("a PDB spent on unhealthy pods says so", () => {
    const v = audit(
      [pod("api-1", { app: "api" })],
      [pdb("api", "api", { allowed: 0, minAvailable: 2, healthy: 2, expected: 3 })],
    );
    assert.match(only(v.blockers, "pdb-no-headroom").fix, /unhealthy pods Ready/);
  });

  test("a StatefulSet with two pods here under a one-disruption PDB is too slow for 60 s grace", () => {
    const v = audit(
      [
        pod("db-0", { app: "db", owner: "StatefulSet", grace: 60 }),
        pod("db-1", { app: "db", owner: "StatefulSet", grace: 60 }),
        pod("db-2", { app: "db", owner: "StatefulSet", grace: 60, node: "n2" }),
      ],
      [pdb("db", "db", { allowed: 1, maxUnavailable: 1 })],
    );
    assert.equal(v.verdict, "at-risk");
    const b = only(v.blockers, "pdb-too-slow");
    assert.equal(b.object, "PodDisruptionBudget shop/db");
    assert.equal(b.pods.length, 1);
    assert.match(
      b.detail,
      /allows 1 disruption at a time \(maxUnavailable 1\) for 2 pods on this node/,
    );
    assert.match(
      b.detail,
      /StatefulSet shop\/db has a replacement Ready 2 s after the old pod is gone \(60 s grace\)/,
    );
    assert.match(b.fix, /raise maxUnavailable to 2/);
    assert.match(b.fix, /topologySpreadConstraints on kubernetes\.io\/hostname/);
  });

  test("a 300 s grace period against a 120 s notice", () => {
    const v = audit([pod("slow-1", { app: "slow", grace: 300 })]);
    const b = only(v.blockers, "grace-too-long");
    assert.equal(b.object, "Deployment shop/slow");
    assert.match(b.detail, /asks 300 s to stop \(terminationGracePeriodSeconds\)/);
    assert.match(b.detail, /nthd cuts it to 108 s/);
    assert.match(b.fix, /terminationGracePeriodSeconds to at most 108 s on Deployment shop\/slow/);
    assert.equal(v.pods.cut, 1);
  });

  test("POD_TERMINATION_GRACE_PERIOD is named when it is what asks too much", () => {
    const v = audit([pod("web-1", { grace: 5 })], [], {
      settings: { podTerminationGracePeriodSeconds: 200 },
    });
    assert.match(only(v.blockers, "grace-too-long").fix, /lower POD_TERMINATION_GRACE_PERIOD/);
  });

  test("a bare pod: evicted and never recreated, or left on the node", () => {
    const evicted = only(audit([pod("bare", { owner: null })]).blockers, "unmanaged");
    assert.equal(evicted.object, "Pod shop/bare");
    assert.match(evicted.detail, /nothing recreates it/);
    assert.match(evicted.fix, /Deployment, StatefulSet or Job/);
    const kept = audit([pod("bare", { owner: null })], [], {
      settings: { evictUnmanagedPods: false },
    });
    assert.match(only(kept.blockers, "unmanaged").detail, /NTHD_EVICT_UNMANAGED_PODS=false/);
    assert.equal(kept.drainedSeconds, undefined);
  });

  test("emptyDir blocks only with DELETE_LOCAL_DATA=false", () => {
    const pods = [pod("cache-1", { app: "cache", emptyDir: true })];
    assert.equal(audit(pods).verdict, "in-time");
    const v = audit(pods, [], { settings: { deleteLocalData: false } });
    const b = only(v.blockers, "local-storage");
    assert.equal(b.object, "Deployment shop/cache");
    assert.match(b.detail, /emptyDir \(scratch\) and DELETE_LOCAL_DATA=false/);
    assert.match(b.fix, /DELETE_LOCAL_DATA=true/);
  });

  test("two PDBs over one pod", () => {
    const v = audit(
      [pod("web-1", { app: "web" })],
      [pdb("a", "web", { allowed: 1 }), pdb("b", "web", { allowed: 1 })],
    );
    assert.match(only(v.blockers, "multiple-pdbs").fix, /disjoint/);
  });

  test("a high-priority pod waiting behind slow lower-priority pods", () => {
    const v = audit([
      pod("batch-1", { app: "batch", priority: 0, grace: 60 }),
      pod("api-1", { app: "api", priority: 1000, grace: 60 }),
    ]);
    const b = only(v.blockers, "waits-for-waves");
    assert.equal(b.object, "Deployment shop/api");
    assert.match(b.detail, /use up to 60 s/);
  });

  test("every blocker code is reachable from a test in this file or the estimate's", () => {
    // Codes only a group of nodes produces are tested below.
    assert.deepEqual([...BLOCKER_CODES].sort(), [
      "grace-too-long",
      "local-storage",
      "multiple-pdbs",
      "pdb-no-headroom",
      "pdb-too-slow",
      "unmanaged",
      "waits-for-api",
      "waits-for-slot",
      "waits-for-waves",
    ]);
  });
});

describe("drain audit: nodes interrupted together", () => {
  const nodes = [
    node("a1", { zone: "us-east-1a" }),
    node("a2", { zone: "us-east-1a" }),
    node("a3", { zone: "us-east-1a", capacity: "on-demand" }),
    node("b1", { zone: "us-east-1b" }),
  ];

  test("groups: Spot nodes by zone, largest first; zone and all scopes", () => {
    const slim = nodes.map(slimNode);
    assert.deepEqual(togetherGroups(slim, "spot-zone"), [
      { zone: "us-east-1a", nodes: ["a1", "a2"] },
      { zone: "us-east-1b", nodes: ["b1"] },
    ]);
    assert.deepEqual(togetherGroups(slim, "zone", "us-east-1a")[0]?.nodes, ["a1", "a2", "a3"]);
    assert.deepEqual(togetherGroups(slim, "all")[0]?.nodes, ["a1", "a2", "a3", "b1"]);
  });

  test("a PDB spanning nodes blocks when its nodes go together, and a Deployment in one zone loses every replica", () => {
    const pods = [
      pod("db-0", { app: "db", owner: "StatefulSet", grace: 60, node: "a1" }),
      pod("db-1", { app: "db", owner: "StatefulSet", grace: 60, node: "a2" }),
      pod("db-2", { app: "db", owner: "StatefulSet", grace: 60, node: "b1" }),
      pod("web-1", { app: "web", grace: 5, node: "a1" }),
      pod("web-2", { app: "web", grace: 5, node: "a2" }),
    ];
    const snapshot = cluster(nodes, pods, [pdb("db", "db", { allowed: 1 })]);
    const p = prepareAudit(snapshot, options());
    for (const n of snapshot.nodes) assert.equal(auditNode(p, n).verdict, "in-time", n.name);
    const t = worstTogether(p, "spot-zone");
    assert.ok(t);
    assert.equal(t.zone, "us-east-1a");
    assert.deepEqual(t.nodes, ["a1", "a2"]);
    const b = t.blockers.find((x) => x.code === "pdb-too-slow");
    assert.ok(b, JSON.stringify(t.blockers));
    assert.equal(b.object, "PodDisruptionBudget shop/db");
    assert.match(b.detail, /for 2 pods on the 2 interrupted nodes/);
    assert.match(b.fix, /topologySpreadConstraints on topology\.kubernetes\.io\/zone/);
    assert.deepEqual(t.workloadsLosingAll, [{ workload: "Deployment shop/web", replicas: 2 }]);
    assert.equal(t.nodesInTime, 1, "the first db pod goes at once; the second waits and is cut");
  });

  test("the zone shown is the one whose interruption does most harm, not the largest", () => {
    const pods = [
      pod("web-1", { app: "web", node: "a1" }),
      pod("web-2", { app: "web", node: "a2" }),
      pod("slow-1", { app: "slow", grace: 300, node: "b1" }),
    ];
    const p = prepareAudit(cluster(nodes, pods), options());
    assert.equal(worstTogether(p, "spot-zone")?.zone, "us-east-1b");
    assert.equal(worstTogether(p, "spot-zone", "us-east-1a")?.zone, "us-east-1a");
  });

  test("too few drain slots and a low API rate are named with the setting to raise", () => {
    const many = Array.from({ length: 20 }, (_, i) => node(`n${i}`));
    const pods = many.flatMap((n, i) =>
      Array.from({ length: 5 }, (_, j) =>
        pod(`p-${i}-${j}`, { app: `a${i}`, grace: 60, node: n.metadata?.name as string }),
      ),
    );
    const snapshot = cluster(many, pods);
    const slots = auditTogether(
      prepareAudit(snapshot, options({ model: { maxConcurrentDrains: 2 } })),
      "all",
      { zone: undefined, nodes: snapshot.nodes.map((n) => n.name) },
    );
    const s = slots.blockers.find((b) => b.code === "waits-for-slot");
    assert.ok(s, JSON.stringify(slots.blockers.map((b) => b.code)));
    assert.match(s.fix, /raise NTHD_MAX_CONCURRENT_DRAINS to 20/);
    const api = auditTogether(
      prepareAudit(snapshot, options({ model: { qps: 0.5, burst: 10 } })),
      "all",
      { zone: undefined, nodes: snapshot.nodes.map((n) => n.name) },
    );
    const a = api.blockers.find((b) => b.code === "waits-for-api");
    assert.ok(a, JSON.stringify(api.blockers.map((b) => b.code)));
    assert.match(a.fix, /raise KUBE_API_QPS to about \d+/);
  });
});

describe("audit notices", () => {
  const c = {
    nodeTerminationGracePeriodSeconds: 300,
    scheduledDrainLeadSeconds: 600,
    cordonOnly: false,
    enableRebalanceDraining: false,
  };
  test("each kind's notice length, or why it cannot be audited", () => {
    assert.deepEqual(auditNoticeSeconds("spot-interruption", c), { ok: true, seconds: 120 });
    assert.deepEqual(auditNoticeSeconds("asg-terminate", c), { ok: true, seconds: 300 });
    assert.deepEqual(auditNoticeSeconds("scheduled-maintenance", c), { ok: true, seconds: 600 });
    assert.deepEqual(auditNoticeSeconds("spot-interruption", c, 90), { ok: true, seconds: 90 });
    assert.equal(auditNoticeSeconds("rebalance-recommendation", c).ok, false);
    assert.equal(
      auditNoticeSeconds("rebalance-recommendation", { ...c, enableRebalanceDraining: true }).ok,
      true,
    );
    assert.equal(auditNoticeSeconds("asg-launch", c).ok, false);
    assert.equal(auditNoticeSeconds("spot-interruption", { ...c, cordonOnly: true }).ok, false);
    assert.equal(
      auditNoticeSeconds("scheduled-maintenance", { ...c, scheduledDrainLeadSeconds: 0 }).ok,
      false,
    );
  });
});
