import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { V1Node, V1Pod, V1PodDisruptionBudget } from "@kubernetes/client-node";
import { pino } from "pino";
import { type Config, loadConfig } from "../../src/config/index.ts";
import type { NodeVerdict } from "../../src/drain/audit.ts";
import type { Page, PageOptions } from "../../src/kube/client.ts";
import {
  MAX_PDB_SERIES,
  startAuditMetrics,
  summarizeAudit,
} from "../../src/modes/audit-metrics.ts";
import { loadMetrics } from "../../src/observe/metrics.ts";
import { node, pdb, pod } from "../support/audit-cluster.ts";

const { registry } = await loadMetrics();

async function values(name: string): Promise<{ labels: Record<string, string>; value: number }[]> {
  const all = (await registry.getMetricsAsJSON()) as unknown as {
    name: string;
    values: { labels: Record<string, string>; value: number }[];
  }[];
  return all.find((f) => f.name === name)?.values ?? [];
}

const config = (over: Partial<Config> = {}): Config => ({
  ...loadConfig([], {}, { modeRules: false }).config,
  auditIntervalSeconds: 60,
  ...over,
});

function fakeKube(objects: { pods: V1Pod[]; pdbs: V1PodDisruptionBudget[] }) {
  const calls: string[] = [];
  return {
    calls,
    async listPage<T>(resource: string, o: PageOptions): Promise<Page<T>> {
      calls.push(`${resource} limit=${o.limit} lane=${o.lane}`);
      const items =
        resource === "pods"
          ? objects.pods
          : resource === "poddisruptionbudgets"
            ? objects.pdbs
            : [];
      return { items: items as T[], continue: undefined, remaining: 0 };
    },
  };
}

describe("periodic drain audit metrics", () => {
  it("exports nodes and nodes at risk per pool, blocking PDBs and each Spot zone's estimate", async () => {
    const nodes: V1Node[] = [
      node("a1", { zone: "us-east-1a" }),
      node("a2", { zone: "us-east-1a" }),
      node("b1", { zone: "us-east-1b", capacity: "on-demand" }),
    ];
    const kube = fakeKube({
      pods: [
        pod("web-1", { app: "web", grace: 5, node: "a1" }),
        pod("frozen-1", { app: "frozen", node: "a2" }),
        pod("frozen-2", { app: "frozen", node: "b1" }),
      ],
      pdbs: [pdb("frozen", "frozen", { allowed: 0, maxUnavailable: 0 })],
    });
    const stop = new AbortController();
    const done = startAuditMetrics({
      kube,
      nodes: { nodes: () => nodes },
      busy: () => false,
      config: config(),
      log: pino({ level: "silent" }),
      signal: stop.signal,
      firstDelaySeconds: 0,
    });
    const until = Date.now() + 5000;
    while ((await values("nthd_audit_runs_total")).length === 0 && Date.now() < until) {
      await new Promise((r) => setTimeout(r, 10));
    }
    stop.abort();
    await done;
    assert.deepEqual(kube.calls, [
      "pods limit=500 lane=normal",
      "poddisruptionbudgets limit=500 lane=normal",
    ]);
    const pick = (vs: { labels: Record<string, string>; value: number }[]) =>
      vs
        .map(
          (v) => `${v.labels.availability_zone ?? ""}/${v.labels.capacity_type ?? ""}=${v.value}`,
        )
        .sort();
    assert.deepEqual(pick(await values("nthd_audit_nodes")), [
      "us-east-1a/spot=2",
      "us-east-1b/on-demand=1",
    ]);
    assert.deepEqual(pick(await values("nthd_audit_nodes_at_risk")), [
      "us-east-1a/spot=1",
      "us-east-1b/on-demand=1",
    ]);
    assert.deepEqual(await values("nthd_audit_blocking_pdb_pods"), [
      { labels: { pdb_namespace: "shop", pdb: "frozen" }, value: 2 },
    ]);
    assert.equal((await values("nthd_audit_blocking_pdbs"))[0]?.value, 1);
    assert.deepEqual(pick(await values("nthd_audit_zone_pods_late")), ["us-east-1a/=1"]);
    assert.deepEqual(
      (await values("nthd_audit_runs_total")).map((v) => [v.labels.result, v.value]),
      [["ok", 1]],
    );
  });

  it("puts the audit off while drains run", async () => {
    const kube = fakeKube({ pods: [], pdbs: [] });
    const stop = new AbortController();
    const done = startAuditMetrics({
      kube,
      nodes: { nodes: () => [] },
      busy: () => true,
      config: config(),
      log: pino({ level: "silent" }),
      signal: stop.signal,
      firstDelaySeconds: 0,
    });
    const until = Date.now() + 5000;
    const skipped = async () =>
      (await values("nthd_audit_runs_total")).find((v) => v.labels.result === "skipped")?.value;
    while ((await skipped()) === undefined && Date.now() < until) {
      await new Promise((r) => setTimeout(r, 10));
    }
    stop.abort();
    await done;
    assert.equal(await skipped(), 1);
    assert.deepEqual(kube.calls, [], "nothing listed");
  });

  it("a bad node selector stops start-up naming the setting", () => {
    assert.throws(
      () =>
        startAuditMetrics({
          kube: fakeKube({ pods: [], pdbs: [] }),
          nodes: { nodes: () => [] },
          busy: () => false,
          config: config({ auditNodeSelector: "zone in (a" }),
          log: pino({ level: "silent" }),
          signal: AbortSignal.abort(),
        }),
      /NTHD_AUDIT_NODE_SELECTOR/,
    );
  });

  it("caps the PDB series and counts every blocking PDB", () => {
    const verdicts: NodeVerdict[] = Array.from({ length: 80 }, (_, i) => ({
      node: `n${i}`,
      pool: { capacityType: "spot", availabilityZone: "z", instanceType: "m5.large" },
      verdict: "at-risk",
      drainedSeconds: undefined,
      pods: { evict: 1, skip: 0, clean: 0, cut: 0, left: 1 },
      blockers: [
        {
          code: "pdb-no-headroom",
          object: `PodDisruptionBudget ns/p${i}`,
          pods: Array.from({ length: (i % 7) + 1 }, (_, j) => `ns/x${j}`),
          detail: "",
          fix: "",
        },
      ],
    }));
    const s = summarizeAudit(verdicts, []);
    assert.equal(s.blockingPdbCount, 80);
    assert.equal(s.blockingPdbs.length, MAX_PDB_SERIES);
    assert.equal(s.blockingPdbs[0]?.pods, 7, "most pods first");
    assert.deepEqual(s.pools, [
      {
        pool: { capacityType: "spot", availabilityZone: "z", instanceType: "m5.large" },
        nodes: 80,
        atRisk: 80,
      },
    ]);
  });
});
