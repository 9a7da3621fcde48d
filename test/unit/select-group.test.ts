/**
 * `nthd select`: grouping by family (disjoint, balanced, every group spans
 * generations), ranking (interruption counts first), diversity-first
 * truncation, and reading nthd's interruption counts from a Prometheus answer.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { groupByFamily, pickDiverse, rank } from "../../src/commands/select/group.ts";
import { parseSelectArgs } from "../../src/commands/select/options.ts";
import { planSelection, selectCandidates } from "../../src/commands/select/plan.ts";
import type { InstanceTypeRecord } from "../../src/commands/select/records.ts";
import { interruptionQuery, parseInterruptionVector } from "../../src/commands/select/stability.ts";
import { fixtureRecords } from "../fixtures/select/load.ts";

const records = fixtureRecords();
const ENV = { AWS_REGION: "us-east-1", KOPS_CLUSTER_NAME: "k8s.example.com" };
const BLOG = [
  "spot",
  "--usage-class",
  "spot",
  "--flexible",
  "--cluster-autoscaler",
  "--vcpus-to-memory-ratio=1:4",
  "--ig-count",
  "2",
];
function options(args: string[]) {
  const r = parseSelectArgs(args, ENV);
  assert.ok(r.ok, r.ok ? "" : r.message);
  return r.options;
}
const families = (types: readonly InstanceTypeRecord[]): Set<string> =>
  new Set(types.map((t) => t.family));

describe("select grouping", () => {
  it("splits the kOps blog selection into disjoint groups, each with several families and generations", () => {
    const candidates = selectCandidates(options(BLOG), records);
    assert.ok(candidates.ok);
    const result = groupByFamily(candidates.candidates, 2);
    assert.ok(result.ok);
    const [a, b] = result.groups as [InstanceTypeRecord[], InstanceTypeRecord[]];
    assert.equal(
      a.length + b.length,
      candidates.candidates.length,
      "every candidate lands in a group",
    );
    for (const f of families(a)) assert.ok(!families(b).has(f), `family ${f} is in both groups`);
    for (const g of [a, b]) {
      assert.ok(families(g).size >= 3, "several families");
      assert.ok(new Set(g.map((t) => t.generation)).size >= 3, "several generations");
    }
    assert.ok(Math.abs(a.length - b.length) <= 1, "balanced");
  });

  it("keeps a family's sizes together and balances by type count", () => {
    const picked = records.filter((t) =>
      /^(m5|m6i|m7i|c5|c6i)\.(large|xlarge|2xlarge)$/.test(t.name),
    );
    const result = groupByFamily(picked, 2);
    assert.ok(result.ok);
    const owner = new Map<string, number>();
    result.groups.forEach((g, i) => {
      for (const t of g) {
        assert.equal(owner.get(t.family) ?? i, i, `${t.family} split across groups`);
        owner.set(t.family, i);
      }
    });
    assert.deepEqual(result.groups.map((g) => g.length).sort(), [6, 9]);
  });

  it("refuses more groups than families, naming them", () => {
    const two = records.filter(
      (t) => t.name === "m5.large" || t.name === "m5.xlarge" || t.name === "m6i.large",
    );
    const result = groupByFamily(two, 3);
    assert.deepEqual(result, {
      ok: false,
      message:
        "--ig-count 3 needs at least 3 instance families (groups share none), but only 2 match: m5, m6i",
    });
  });
});

describe("select ranking", () => {
  const pool = records.filter((t) =>
    ["m5.xlarge", "m6i.xlarge", "m7i.xlarge", "m6a.xlarge"].includes(t.name),
  );

  it("prefers newer generations, then lower price per vCPU, then name", () => {
    assert.deepEqual(
      rank(pool).map((t) => t.name),
      ["m7i.xlarge", "m6a.xlarge", "m6i.xlarge", "m5.xlarge"],
    );
    const prices = new Map([
      ["m6i.xlarge", 0.01],
      ["m6a.xlarge", 0.02],
    ]);
    assert.deepEqual(
      rank(pool, { spotPricePerVcpu: prices })
        .map((t) => t.name)
        .slice(1, 3),
      ["m6i.xlarge", "m6a.xlarge"],
    );
  });

  it("--prefer-stable ranks the most interrupted pools last", () => {
    const interruptions = new Map([
      ["m7i.xlarge", 9],
      ["m6a.xlarge", 2],
    ]);
    assert.deepEqual(
      rank(pool, { interruptions }).map((t) => t.name),
      ["m6i.xlarge", "m5.xlarge", "m6a.xlarge", "m7i.xlarge"],
    );
  });

  it("--prefer-stable changes which types survive --max-results", () => {
    const args = [...BLOG.slice(0, 5), "--vcpus-to-memory-ratio=1:4", "--max-results", "3"];
    const plain = planSelection(options(args), records);
    assert.ok(plain.ok);
    const newest = plain.plan.groups[0]?.types.map((t) => t.name) ?? [];
    const interruptions = new Map(newest.map((n) => [n, 50] as const));
    const stable = planSelection(options(args), records, { interruptions });
    assert.ok(stable.ok);
    const chosen = stable.plan.groups[0]?.types.map((t) => t.name) ?? [];
    assert.equal(chosen.length, 3);
    for (const n of newest)
      assert.ok(!chosen.includes(n), `${n} was interrupted most and should be left out`);
  });

  it("truncation keeps one type per family before a second size of any family", () => {
    const picked = records.filter((t) => /^(m5|m6i|m7i)\.(large|xlarge|2xlarge)$/.test(t.name));
    const kept = pickDiverse(rank(picked), 4);
    assert.deepEqual(families(kept), new Set(["m5", "m6i", "m7i"]));
    assert.equal(kept.length, 4);
  });
});

describe("select interruption counts from Prometheus", () => {
  it("builds the per-type query over the window and zones", () => {
    assert.equal(
      interruptionQuery(14),
      'sum by (instance_type) (increase(nthd_interruptions_total{kind="spot-interruption"}[14d]))',
    );
    assert.equal(
      interruptionQuery(7, ["us-east-1a", "us-east-1b"]),
      'sum by (instance_type) (increase(nthd_interruptions_total{kind="spot-interruption",availability_zone=~"us-east-1a|us-east-1b"}[7d]))',
    );
  });

  it("reads a vector answer and skips samples without a type or a number", () => {
    const answer = {
      status: "success",
      data: {
        resultType: "vector",
        result: [
          { metric: { instance_type: "m5.xlarge" }, value: [1700000000, "4.5"] },
          { metric: { instance_type: "m6i.xlarge" }, value: [1700000000, "0"] },
          { metric: {}, value: [1700000000, "3"] },
          { metric: { instance_type: "m7i.xlarge" }, value: [1700000000, "NaN"] },
        ],
      },
    };
    const parsed = parseInterruptionVector(answer);
    assert.ok(parsed.ok);
    assert.deepEqual(
      [...parsed.counts],
      [
        ["m5.xlarge", 4.5],
        ["m6i.xlarge", 0],
      ],
    );
  });

  it("turns errors and odd answers into messages, never throws", () => {
    assert.deepEqual(parseInterruptionVector({ status: "error", error: "parse error at char 3" }), {
      ok: false,
      error: "query failed: parse error at char 3",
    });
    assert.equal(parseInterruptionVector(null).ok, false);
    assert.equal(parseInterruptionVector("x").ok, false);
    assert.deepEqual(
      parseInterruptionVector({ status: "success", data: { resultType: "matrix", result: [] } }),
      {
        ok: false,
        error: 'expected a vector result, got "matrix"',
      },
    );
  });
});
