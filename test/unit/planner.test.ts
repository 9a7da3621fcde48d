import assert from "node:assert/strict";
import { describe, test } from "node:test";
import type { V1Pod, V1PodDisruptionBudget } from "@kubernetes/client-node";
import { SKIP_CODES } from "../../src/drain/filters.ts";
import { gracePeriodFor, type PlanSettings, planDrain } from "../../src/drain/planner.ts";
import { selectorMatches } from "../../src/drain/selector.ts";

const NOW = new Date("2026-01-01T00:00:00Z");
const inSeconds = (s: number) => new Date(NOW.getTime() + s * 1000);

const SETTINGS: PlanSettings = {
  ignoreDaemonSets: true,
  deleteLocalData: true,
  evictUnmanagedPods: true,
  podName: "nthd-abc",
  podNamespace: "kube-system",
  podTerminationGracePeriodSeconds: -1,
  deadlineSafetyMarginSeconds: 10,
};

interface PodOpts {
  ns?: string;
  labels?: Record<string, string>;
  owner?: string | null;
  priority?: number;
  grace?: number;
  phase?: string;
  deleting?: boolean;
  mirror?: boolean;
  emptyDir?: boolean;
}

function pod(name: string, o: PodOpts = {}): V1Pod {
  const owner = o.owner === undefined ? "ReplicaSet" : o.owner;
  return {
    metadata: {
      name,
      namespace: o.ns ?? "app",
      uid: `uid-${name}`,
      labels: o.labels ?? {},
      ...(owner
        ? {
            ownerReferences: [
              {
                apiVersion: "apps/v1",
                kind: owner,
                name: `${name}-owner`,
                uid: "o",
                controller: true,
              },
            ],
          }
        : {}),
      ...(o.mirror ? { annotations: { "kubernetes.io/config.mirror": "abc" } } : {}),
      ...(o.deleting ? { deletionTimestamp: NOW } : {}),
    },
    spec: {
      containers: [{ name: "c" }],
      ...(o.priority !== undefined ? { priority: o.priority } : {}),
      ...(o.grace !== undefined ? { terminationGracePeriodSeconds: o.grace } : {}),
      ...(o.emptyDir ? { volumes: [{ name: "scratch", emptyDir: {} }] } : {}),
    },
    status: { phase: o.phase ?? "Running" },
  };
}

function pdb(name: string, matchLabels: Record<string, string>, allowed: number, ns = "app") {
  return {
    metadata: { name, namespace: ns },
    spec: { selector: { matchLabels } },
    status: { disruptionsAllowed: allowed, currentHealthy: 0, desiredHealthy: 0, expectedPods: 0 },
  } satisfies V1PodDisruptionBudget;
}

function plan(
  pods: V1Pod[],
  opts: { pdbs?: V1PodDisruptionBudget[]; settings?: Partial<PlanSettings>; deadline?: Date } = {},
) {
  return planDrain({
    pods,
    pdbs: opts.pdbs ?? [],
    now: NOW,
    deadline: opts.deadline ?? inSeconds(600),
    settings: { ...SETTINGS, ...opts.settings },
  });
}

describe("planner: ordering", () => {
  test("lower priority first, each priority its own wave", () => {
    const p = plan([pod("high", { priority: 1000 }), pod("low", { priority: -5 }), pod("mid")]);
    assert.deepEqual(
      p.evictions.map((e) => [e.pod.name, e.wave]),
      [
        ["low", 0],
        ["mid", 1],
        ["high", 2],
      ],
    );
    assert.equal(p.waves, 3);
  });

  test("within a priority: no PDB first, then most PDB headroom, then by name", () => {
    const pdbs = [pdb("tight", { app: "t" }, 0), pdb("loose", { app: "l" }, 3)];
    const p = plan(
      [
        pod("b-tight", { labels: { app: "t" } }),
        pod("a-loose", { labels: { app: "l" } }),
        pod("z-free"),
        pod("c-free"),
      ],
      { pdbs },
    );
    assert.deepEqual(
      p.evictions.map((e) => e.pod.name),
      ["c-free", "z-free", "a-loose", "b-tight"],
    );
    const tight = p.evictions.find((e) => e.pod.name === "b-tight");
    assert.equal(tight?.pdb, "app/tight");
    assert.equal(tight?.headroom, 0);
    assert.equal(p.waves, 1);
  });

  test("DaemonSet pods go last when ignore-daemon-sets=false", () => {
    const p = plan(
      [pod("ds", { owner: "DaemonSet", priority: -100 }), pod("web", { priority: 50 })],
      {
        settings: { ignoreDaemonSets: false },
      },
    );
    assert.deepEqual(
      p.evictions.map((e) => [e.pod.name, e.wave, e.daemonSet]),
      [
        ["web", 0, false],
        ["ds", 1, true],
      ],
    );
  });

  test("a PDB in another namespace does not cover the pod", () => {
    const p = plan([pod("web", { labels: { app: "w" } })], {
      pdbs: [pdb("other", { app: "w" }, 0, "elsewhere")],
    });
    assert.equal(p.evictions[0]?.pdb, undefined);
    assert.equal(p.evictions[0]?.headroom, null);
  });
});

describe("planner: grace periods", () => {
  test("the pod's own grace period when it fits", () => {
    const p = plan([pod("w", { grace: 45 })]);
    assert.equal(p.evictions[0]?.gracePeriodSeconds, 45);
    assert.equal(p.evictions[0]?.graceFrom, "pod");
  });

  test("Kubernetes' default of 30 s when the pod sets none", () => {
    assert.equal(plan([pod("w")]).evictions[0]?.gracePeriodSeconds, 30);
  });

  test("pod-termination-grace-period >= 0 replaces the pod's own (NTH and kubectl semantics)", () => {
    const p = plan([pod("w", { grace: 300 }), pod("x", { grace: 5 })], {
      settings: { podTerminationGracePeriodSeconds: 20 },
    });
    assert.deepEqual(
      p.evictions.map((e) => [e.gracePeriodSeconds, e.graceFrom]),
      [
        [20, "setting"],
        [20, "setting"],
      ],
    );
  });

  test("capped to the time left before the deadline minus the safety margin", () => {
    const p = plan([pod("w", { grace: 300 })], { deadline: inSeconds(90) });
    assert.equal(p.evictions[0]?.gracePeriodSeconds, 80);
    assert.equal(p.evictions[0]?.graceFrom, "deadline");
  });

  test("never below 1 s, even past the deadline", () => {
    assert.deepEqual(
      gracePeriodFor(
        30,
        { podTerminationGracePeriodSeconds: -1, deadlineSafetyMarginSeconds: 10 },
        NOW,
        inSeconds(-5),
      ),
      { seconds: 1, from: "deadline" },
    );
  });

  test("an explicit 0 from the setting is kept when time allows", () => {
    assert.deepEqual(
      gracePeriodFor(
        30,
        { podTerminationGracePeriodSeconds: 0, deadlineSafetyMarginSeconds: 10 },
        NOW,
        inSeconds(100),
      ),
      { seconds: 0, from: "setting" },
    );
  });
});

describe("planner: skip reasons", () => {
  const cases: Array<{
    code: string;
    pod: V1Pod;
    settings?: Partial<PlanSettings>;
    names: RegExp;
  }> = [
    { code: "mirror", pod: pod("static", { mirror: true, owner: "Node" }), names: /static pod/ },
    { code: "completed", pod: pod("job", { phase: "Succeeded" }), names: /Succeeded/ },
    { code: "terminating", pod: pod("going", { deleting: true }), names: /already terminating/ },
    {
      code: "self",
      pod: pod("nthd-abc", { ns: "kube-system" }),
      names: /this nthd pod/,
    },
    {
      code: "daemonset",
      pod: pod("agent", { owner: "DaemonSet" }),
      names: /ignore-daemon-sets=true/,
    },
    {
      code: "unmanaged",
      pod: pod("bare", { owner: null }),
      settings: { evictUnmanagedPods: false },
      names: /evict-unmanaged-pods=false/,
    },
    {
      code: "local-storage",
      pod: pod("cache", { emptyDir: true }),
      settings: { deleteLocalData: false },
      names: /emptyDir volume scratch.*delete-local-data=false/,
    },
  ];

  for (const c of cases) {
    test(`${c.code}: skipped with a reason`, () => {
      const p = plan([c.pod, pod("other")], c.settings ? { settings: c.settings } : {});
      assert.deepEqual(
        p.evictions.map((e) => e.pod.name),
        ["other"],
      );
      assert.equal(p.skipped.length, 1);
      assert.equal(p.skipped[0]?.code, c.code);
      assert.match(p.skipped[0]?.reason ?? "", c.names);
    });
  }

  test("covered by two PDBs: skipped, both named", () => {
    const p = plan([pod("w", { labels: { app: "w", tier: "f" } })], {
      pdbs: [pdb("one", { app: "w" }, 1), pdb("two", { tier: "f" }, 1)],
    });
    assert.equal(p.evictions.length, 0);
    assert.equal(p.skipped[0]?.code, "multiple-pdbs");
    assert.match(p.skipped[0]?.reason ?? "", /app\/one, app\/two/);
  });

  test("every skip code has a case above", () => {
    const covered = new Set([...cases.map((c) => c.code), "multiple-pdbs"]);
    assert.deepEqual(
      [...SKIP_CODES].filter((c) => !covered.has(c)),
      [],
    );
  });

  test("the settings that skip can also keep: DaemonSet, unmanaged, emptyDir pods evicted", () => {
    const p = plan(
      [
        pod("agent", { owner: "DaemonSet" }),
        pod("bare", { owner: null }),
        pod("cache", { emptyDir: true }),
      ],
      { settings: { ignoreDaemonSets: false, evictUnmanagedPods: true, deleteLocalData: true } },
    );
    assert.deepEqual(p.evictions.map((e) => e.pod.name).sort(), ["agent", "bare", "cache"]);
    assert.equal(p.skipped.length, 0);
  });

  test("the pod's uid is kept as an eviction precondition", () => {
    assert.equal(plan([pod("w")]).evictions[0]?.pod.uid, "uid-w");
  });
});

describe("label selectors", () => {
  const labels = { app: "web", tier: "front" };
  test("matchLabels and every operator", () => {
    assert.equal(selectorMatches({ matchLabels: { app: "web" } }, labels), true);
    assert.equal(selectorMatches({ matchLabels: { app: "db" } }, labels), false);
    assert.equal(
      selectorMatches(
        { matchExpressions: [{ key: "tier", operator: "In", values: ["front"] }] },
        labels,
      ),
      true,
    );
    assert.equal(
      selectorMatches(
        { matchExpressions: [{ key: "tier", operator: "NotIn", values: ["front"] }] },
        labels,
      ),
      false,
    );
    assert.equal(
      selectorMatches(
        { matchExpressions: [{ key: "zone", operator: "NotIn", values: ["a"] }] },
        labels,
      ),
      true,
    );
    assert.equal(
      selectorMatches({ matchExpressions: [{ key: "app", operator: "Exists" }] }, labels),
      true,
    );
    assert.equal(
      selectorMatches({ matchExpressions: [{ key: "app", operator: "DoesNotExist" }] }, labels),
      false,
    );
    assert.equal(
      selectorMatches({ matchExpressions: [{ key: "app", operator: "Bogus" }] }, labels),
      false,
    );
  });
  test("empty selector matches all, missing selector none (policy/v1)", () => {
    assert.equal(selectorMatches({}, labels), true);
    assert.equal(selectorMatches(undefined, labels), false);
  });
});
