import assert from "node:assert/strict";
import { describe, test } from "node:test";
import type { V1Pod } from "@kubernetes/client-node";
import { createSnapshotBuilder, slimPod, startupOf } from "../../src/drain/audit-snapshot.ts";
import { planDrain } from "../../src/drain/planner.ts";
import { parseLabelSelector, selectorMatches } from "../../src/drain/selector.ts";
import { workloadOf } from "../../src/drain/workload.ts";
import { KubeApiError } from "../../src/kube/api-error.ts";
import type { Page, PageOptions } from "../../src/kube/client.ts";
import { type ListProgress, listPaged } from "../../src/kube/paged-list.ts";
import { pdb, pod } from "../support/audit-cluster.ts";

describe("label selectors as kubectl -l takes them", () => {
  const labels = { app: "web", tier: "front", zone: "a" };
  const matches = (text: string) => {
    const r = parseLabelSelector(text);
    assert.ok(r.ok, r.ok ? "" : r.message);
    return selectorMatches(r.selector, labels);
  };

  test("equality, inequality, sets, existence", () => {
    assert.equal(matches(""), true);
    assert.equal(matches("app=web"), true);
    assert.equal(matches("app==web,tier=front"), true);
    assert.equal(matches("app!=web"), false);
    assert.equal(matches("zone in (a, b)"), true);
    assert.equal(matches("zone notin (a,b),app=web"), false);
    assert.equal(matches("tier"), true);
    assert.equal(matches("!tier"), false);
    assert.equal(matches("karpenter.sh/capacity-type=spot"), false);
  });

  test("bad selectors name the bad term", () => {
    for (const [text, why] of [
      ["app=web,", /empty term/],
      ["zone in (a,b", /unbalanced/],
      ["app=we b", /not a label selector term/],
      ["-bad=x", /invalid label key/],
      ["app=web,app=db", /already required/],
    ] as const) {
      const r = parseLabelSelector(text);
      assert.equal(r.ok, false, text);
      assert.match(r.ok ? "" : r.message, why, text);
    }
  });
});

describe("audit snapshot", () => {
  test("a slimmed pod plans exactly as the full one", () => {
    const full = [
      pod("web-1", { grace: 45, priority: 7, emptyDir: true, padBytes: 4000 }),
      pod("bare", { owner: null }),
      pod("ds", { owner: "DaemonSet" }),
      {
        ...pod("mirror"),
        metadata: {
          ...pod("mirror").metadata,
          annotations: { "kubernetes.io/config.mirror": "x" },
        },
      },
      pod("done", { phase: "Succeeded" }),
    ] satisfies V1Pod[];
    const pdbs = [pdb("web", "app", { allowed: 1 })];
    const input = (pods: V1Pod[]) => ({
      pods,
      pdbs,
      now: new Date(0),
      deadline: new Date(120_000),
      settings: {
        ignoreDaemonSets: true,
        deleteLocalData: false,
        evictUnmanagedPods: false,
        podName: "",
        podNamespace: "",
        podTerminationGracePeriodSeconds: -1,
        deadlineSafetyMarginSeconds: 10,
      },
    });
    const slim = full.map(slimPod);
    assert.deepEqual(planDrain(input(slim)), planDrain(input(full)));
    assert.ok(JSON.stringify(slim[0]).length < 600, JSON.stringify(slim[0]));
    assert.deepEqual(workloadOf(slim[0] as V1Pod), workloadOf(full[0] as V1Pod));
  });

  test("keeps audited nodes' pods and counts every running replica by workload", () => {
    const b = createSnapshotBuilder([{ name: "n1", labels: {} }]);
    b.addPod(pod("web-1", { app: "web", node: "n1", startupSeconds: 4 }));
    b.addPod(pod("web-2", { app: "web", node: "n2", startupSeconds: 8 }));
    b.addPod(pod("web-3", { app: "web", node: "n2", startupSeconds: 6 }));
    b.addPod(pod("old", { app: "web", node: "n1", phase: "Failed" }));
    b.addPod({ ...pod("pending", { app: "web" }), spec: { containers: [] } });
    const s = b.build();
    assert.equal(s.podsListed, 5);
    assert.deepEqual(
      s.podsByNode.get("n1")?.map((p) => p.metadata?.name),
      ["web-1", "old"],
    );
    const web = s.workloads.get("Deployment shop/web");
    assert.equal(web?.running, 3);
    assert.deepEqual([...(web?.onNodes ?? [])], [["n1", 1]]);
    assert.equal(startupOf(web, 10), 6, "median creation-to-Ready");
    assert.equal(startupOf(undefined, 10), 10);
  });

  test("workloads: a Deployment's ReplicaSet is named as the Deployment", () => {
    assert.deepEqual(workloadOf(pod("x", { app: "checkout" })), {
      namespace: "shop",
      kind: "Deployment",
      name: "checkout",
    });
    assert.equal(workloadOf(pod("db-0", { app: "db", owner: "StatefulSet" })).kind, "StatefulSet");
    assert.equal(workloadOf(pod("bare", { owner: null })).kind, "Pod");
  });
});

describe("paged lists", () => {
  function fakeKube(pages: string[][], failAt?: { call: number; status: number }) {
    const calls: PageOptions[] = [];
    return {
      calls,
      async listPage<T>(_r: string, o: PageOptions): Promise<Page<T>> {
        calls.push(o);
        if (failAt && calls.length === failAt.call) {
          throw new KubeApiError(failAt.status, { message: "expired" });
        }
        const i = o.continue === undefined ? 0 : Number(o.continue);
        const next = i + 1 < pages.length ? String(i + 1) : undefined;
        const remaining = pages.slice(i + 1).reduce((n, p) => n + p.length, 0);
        return { items: pages[i] as T[], continue: next, remaining };
      },
    };
  }

  test("reads page after page with limit and continue, reporting progress", async () => {
    const kube = fakeKube([["a", "b"], ["c", "d"], ["e"]]);
    const seen: string[] = [];
    const progress: ListProgress[] = [];
    const n = await listPaged<string>(kube, "pods", (items) => void seen.push(...items), {
      limit: 2,
      labelSelector: "x=y",
      onProgress: (p) => progress.push(p),
    });
    assert.equal(n, 5);
    assert.deepEqual(seen, ["a", "b", "c", "d", "e"]);
    assert.deepEqual(
      kube.calls.map((c) => [c.limit, c.continue, c.labelSelector]),
      [
        [2, undefined, "x=y"],
        [2, "1", "x=y"],
        [2, "2", "x=y"],
      ],
    );
    assert.deepEqual(
      progress.map((p) => [p.read, p.total, p.pages]),
      [
        [2, 5, 1],
        [4, 5, 2],
        [5, 5, 3],
      ],
    );
  });

  test("an expired continue token starts the list over once; other errors fail", async () => {
    const kube = fakeKube([["a"], ["b"]], { call: 2, status: 410 });
    const seen: string[] = [];
    let restarts = 0;
    await listPaged<string>(kube, "pods", (items) => void seen.push(...items), {
      onRestart: () => {
        restarts++;
        seen.length = 0;
      },
    });
    assert.equal(restarts, 1);
    assert.deepEqual(seen, ["a", "b"]);
    await assert.rejects(
      listPaged(fakeKube([["a"], ["b"]], { call: 2, status: 403 }), "pods", () => {}),
      (err: unknown) => err instanceof KubeApiError && err.status === 403,
    );
  });
});
