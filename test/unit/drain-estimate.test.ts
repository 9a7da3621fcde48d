import assert from "node:assert/strict";
import { describe, test } from "node:test";
import {
  type EstimateModel,
  estimateDrains,
  meanBackoffSeconds,
  type NodeToDrain,
  type PodToEvict,
} from "../../src/drain/drain-estimate.ts";
import { tokenBucket } from "../../src/drain/simulated-time.ts";

const MODEL: EstimateModel = {
  noticeSeconds: 120,
  safetyMarginSeconds: 10,
  startSeconds: 1,
  cordonsPerSecond: 10,
  maxConcurrentDrains: 100,
  qps: 50,
  burst: 100,
};

function pod(key: string, o: Partial<PodToEvict> = {}): PodToEvict {
  return {
    key,
    wave: 0,
    wantedGraceSeconds: 5,
    replacement: "at-once",
    startupSeconds: 2,
    ...o,
  };
}

const drainOf = (name: string, pods: PodToEvict[]): NodeToDrain => ({
  name,
  pods,
  waves: Math.max(0, ...pods.map((p) => p.wave + 1)),
});

function run(
  nodes: NodeToDrain[],
  headroom: Record<string, number> = {},
  m: Partial<EstimateModel> = {},
) {
  const e = estimateDrains(nodes, new Map(Object.entries(headroom)), { ...MODEL, ...m });
  const byKey = new Map(e.nodes.flatMap((n) => n.pods.map((p) => [p.pod.key, p] as const)));
  return { e, pod: (k: string) => byKey.get(k) ?? assert.fail(`no pod ${k}`) };
}

describe("drain estimate", () => {
  test("pods without a PDB are evicted at the drain's start and gone after their grace period", () => {
    const { e, pod: p } = run([
      drainOf("n1", [pod("a/1"), pod("a/2", { wantedGraceSeconds: 30 })]),
    ]);
    assert.equal(p("a/1").evictedAt, 1);
    assert.equal(p("a/1").goneAt, 6);
    assert.equal(p("a/2").goneAt, 31);
    assert.deepEqual(
      e.nodes[0]?.pods.map((t) => t.fate),
      ["clean", "clean"],
    );
    // cordon, 3 lists/watch, 2 evictions, 2 second-pass lists, the outcome's patch
    assert.equal(e.requests, 9);
  });

  test("a PDB allowing one disruption serializes a Deployment's pods by its replacements' start-up", () => {
    const { pod: p } = run(
      [drainOf("n1", [pod("a/1", { pdb: "a/p" }), pod("a/2", { pdb: "a/p" })])],
      {
        "a/p": 1,
      },
    );
    assert.equal(p("a/1").evictedAt, 1);
    // Refused at 1 s; the replacement is Ready at 3 s; the retries (0.375 s, 0.75 s, 1.5 s) pass at 3.625 s.
    assert.equal(p("a/2").attempts, 4);
    assert.ok(Math.abs((p("a/2").evictedAt ?? 0) - 3.625) < 1e-9);
    assert.ok(Math.abs(p("a/2").waitedPdb - 2.625) < 1e-9);
    assert.equal(p("a/2").fate, "clean");
  });

  test("a StatefulSet under a one-disruption PDB: 2 of 4 pods with 50 s grace get it whole, 2 are cut (pdb-contention bench)", () => {
    const pods = [1, 2, 3, 4].map((i) =>
      pod(`s/${i}`, {
        pdb: "s/p",
        wantedGraceSeconds: 50,
        replacement: "after-gone",
        startupSeconds: 1,
      }),
    );
    const { e } = run([drainOf("n1", pods)], { "s/p": 1 });
    assert.deepEqual(
      e.nodes[0]?.pods.map((t) => t.fate),
      ["clean", "clean", "cut", "cut"],
    );
    const cut = e.nodes[0]?.pods[2];
    assert.ok((cut?.evictedAt ?? 0) > 100, "third eviction waits for two rounds of 50 s");
    assert.ok((cut?.goneAt ?? 999) <= 120);
  });

  test("a PDB with no headroom keeps its pods past the deadline, retried until then", () => {
    const { e, pod: p } = run([drainOf("n1", [pod("a/1", { pdb: "a/p" }), pod("a/2")])], {
      "a/p": 0,
    });
    assert.equal(p("a/1").fate, "left");
    assert.equal(p("a/1").evictedAt, undefined);
    assert.ok(p("a/1").attempts > 10, `${p("a/1").attempts} attempts`);
    assert.equal(p("a/1").waitedPdb, 119);
    assert.equal(p("a/2").fate, "clean", "the refused pod does not hold up the other");
    assert.ok((e.nodes[0]?.doneAt ?? 0) >= 120, "the drain keeps its slot until the deadline");
  });

  test("a grace period longer than the notice is cut to the time left before the safety margin", () => {
    const { pod: p } = run([drainOf("n1", [pod("a/slow", { wantedGraceSeconds: 300 })])]);
    assert.equal(p("a/slow").fate, "cut");
    assert.equal(p("a/slow").graceGivenSeconds, 109);
    assert.equal(p("a/slow").goneAt, 110);
  });

  test("a wave starts once each pod of the previous one is gone or refused", () => {
    const { pod: p } = run(
      [
        drainOf("n1", [
          pod("a/low", { wave: 0, wantedGraceSeconds: 40 }),
          pod("a/blocked", { wave: 0, pdb: "a/p" }),
          pod("a/high", { wave: 1, wantedGraceSeconds: 80 }),
        ]),
      ],
      { "a/p": 0 },
    );
    assert.equal(p("a/high").waveAt, 41);
    assert.equal(p("a/high").fate, "cut");
  });

  test("drain slots: a node waits for a free slot, held until the other's pods are gone", () => {
    const { e } = run(
      [drainOf("n1", [pod("a/1", { wantedGraceSeconds: 20 })]), drainOf("n2", [pod("a/2")])],
      {},
      { maxConcurrentDrains: 1 },
    );
    const [n1, n2] = e.nodes;
    assert.equal(n2?.cordonAt, 1.1);
    assert.equal(n2?.slotAt, n1?.doneAt);
    assert.ok((n2?.slotAt ?? 0) >= 21);
  });

  test("the API rate limit delays evictions once the burst is spent", () => {
    const pods = Array.from({ length: 20 }, (_, i) => pod(`a/${i}`));
    const { pod: p } = run([drainOf("n1", pods)], {}, { qps: 2, burst: 5 });
    // 1 token for the cordon, 3 for lists and watch, then 1 eviction from the burst.
    assert.equal(p("a/0").waitedApi, 0);
    assert.ok(p("a/19").waitedApi > 8, `${p("a/19").waitedApi}`);
  });

  test("identical input gives identical output", () => {
    const nodes = Array.from({ length: 30 }, (_, i) =>
      drainOf(`n${i}`, [pod(`a/${i}`, { pdb: "a/p", wantedGraceSeconds: 20 })]),
    );
    const a = run(nodes, { "a/p": 3 }, { maxConcurrentDrains: 5 }).e;
    const b = run(nodes, { "a/p": 3 }, { maxConcurrentDrains: 5 }).e;
    assert.deepEqual(a, b);
  });
});

describe("simulated time", () => {
  test("mean backoff follows the executor's doubling from 0.5 s to 10 s", () => {
    assert.deepEqual(
      [0, 1, 2, 3, 4, 5, 9].map(meanBackoffSeconds),
      [0.375, 0.75, 1.5, 3, 6, 7.5, 7.5],
    );
  });

  test("the token bucket serves the burst at once, then at qps, first come first served", () => {
    const b = tokenBucket(2, 3);
    assert.deepEqual(
      [0, 0, 0, 0, 0].map((t) => b.take(t)),
      [0, 0, 0, 0.5, 1],
    );
    assert.equal(b.take(10), 10, "refilled meanwhile");
    b.tryTake(10);
    assert.equal(b.requests(), 7);
  });
});
