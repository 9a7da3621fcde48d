/**
 * `nthd select`: instance-type records, flag parsing, the filters and the
 * requirement building (--flexible, --base-instance-type), on instance-type
 * data captured from the test ground's EC2 DescribeInstanceTypes.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import {
  applyFilters,
  describeNoMatch,
  ratioFilter,
  vcpusFilter,
} from "../../src/commands/select/filters.ts";
import { parseMemoryMiB, parseRatio } from "../../src/commands/select/flags.ts";
import { parseSelectArgs, type SelectOptions } from "../../src/commands/select/options.ts";
import { selectCandidates } from "../../src/commands/select/plan.ts";
import {
  fromDescribe,
  type InstanceTypeRecord,
  parseTypeName,
} from "../../src/commands/select/records.ts";
import { buildFilters } from "../../src/commands/select/requirements.ts";
import { fixtureRecords } from "../fixtures/select/load.ts";

const records = fixtureRecords();
const byName = (n: string): InstanceTypeRecord => {
  const r = records.find((x) => x.name === n);
  assert.ok(r, `fixture has ${n}`);
  return r;
};

const ENV = { AWS_REGION: "us-east-1", KOPS_CLUSTER_NAME: "k8s.example.com" };
function opts(...args: string[]): SelectOptions {
  const r = parseSelectArgs(["spot", ...args], ENV);
  assert.ok(r.ok, r.ok ? "" : r.message);
  return r.options;
}

describe("select records", () => {
  it("parses family, series and generation from type names", () => {
    assert.deepEqual(parseTypeName("m5a.xlarge"), { family: "m5a", series: "m", generation: 5 });
    assert.deepEqual(parseTypeName("c7i-flex.large"), {
      family: "c7i-flex",
      series: "c",
      generation: 7,
    });
    assert.deepEqual(parseTypeName("u-3tb1.56xlarge"), {
      family: "u-3tb1",
      series: "u",
      generation: 0,
    });
    assert.equal(parseTypeName("nodot"), undefined);
    assert.equal(parseTypeName(".large"), undefined);
    assert.equal(parseTypeName("m5."), undefined);
  });

  it("normalizes DescribeInstanceTypes entries and skips ones missing what filters need", () => {
    const m = byName("m5.xlarge");
    assert.equal(m.vcpus, 4);
    assert.equal(m.memoryMiB, 16384);
    assert.deepEqual(m.architectures, ["amd64"]);
    assert.deepEqual(m.usageClasses, ["spot", "on-demand"]);
    assert.equal(m.gpus, 0);
    assert.equal(byName("g4dn.xlarge").gpus, 1);
    assert.equal(byName("t3.large").burstable, true);
    assert.equal(byName("m5.metal").bareMetal, true);
    assert.deepEqual(byName("m6g.large").architectures, ["arm64"]);
    assert.equal(fromDescribe({ InstanceType: "m5.large" }), undefined);
    assert.equal(
      fromDescribe({
        InstanceType: "bad",
        VCpuInfo: { DefaultVCpus: 2 },
        MemoryInfo: { SizeInMiB: 1 },
      }),
      undefined,
    );
    assert.equal(
      fromDescribe({
        InstanceType: "m5.large",
        VCpuInfo: { DefaultVCpus: 0 },
        MemoryInfo: { SizeInMiB: 8 },
      }),
      undefined,
    );
  });
});

describe("select flags", () => {
  it("reads kOps-style values", () => {
    assert.equal(parseRatio("1:4"), 4);
    assert.equal(parseRatio("2:8"), 4);
    assert.equal(parseRatio("1:0"), undefined);
    assert.equal(parseRatio("4"), undefined);
    assert.equal(parseMemoryMiB("4096"), 4096);
    assert.equal(parseMemoryMiB("8GiB"), 8192);
    assert.equal(parseMemoryMiB("0.5gb"), 512);
    assert.equal(parseMemoryMiB("512Mi"), 512);
    assert.equal(parseMemoryMiB("8TB"), undefined);
    const o = opts(
      "--usage-class",
      "spot",
      "--vcpus-to-memory-ratio=1:4",
      "--ig-count",
      "2",
      "--flexible",
    );
    assert.equal(o.memoryPerVcpuGiB, 4);
    assert.equal(o.igCount, 2);
    assert.equal(o.onDemandAboveBase, 0, "spot groups default to no on-demand above the base");
    assert.equal(o.spotAllocationStrategy, "price-capacity-optimized");
    assert.equal(opts().onDemandAboveBase, 100, "on-demand is the default usage class, as in kOps");
    assert.deepEqual(opts("--vcpus", "4").vcpus, { min: 4, max: 4 });
    assert.deepEqual(opts("--vcpus-min", "2", "--vcpus-max", "8").vcpus, { min: 2, max: 8 });
    assert.equal(opts("--cpu-architecture", "x86_64").cpuArchitecture, "amd64");
  });

  it("names the flag that is wrong", () => {
    const bad = (args: string[], env: Record<string, string> = ENV): string => {
      const r = parseSelectArgs(args, env);
      assert.equal(r.ok, false);
      return r.ok ? "" : r.message;
    };
    assert.match(bad(["spot", "--vcpus-to-memory-ratio", "4"]), /--vcpus-to-memory-ratio "4"/);
    assert.match(
      bad(["spot", "--vcpus-min", "8", "--vcpus-max", "2"]),
      /--vcpus: minimum 8 is above maximum 2/,
    );
    assert.match(
      bad(["spot", "--usage-class", "reserved"]),
      /--usage-class "reserved": expected one of spot, on-demand/,
    );
    assert.match(bad(["spot", "--max-results", "41"]), /--max-results "41"/);
    assert.match(
      bad(["spot", "--allow-list", "m5("]),
      /--allow-list "m5\(": not a regular expression/,
    );
    assert.match(bad(["spot", "--prefer-stable"]), /--prefer-stable needs --metrics-url/);
    assert.match(bad(["spot", "--bogus"]), /^unknown option '--bogus'$/);
    assert.match(bad(["spot", "--vcpu", "2"]), /did you mean --vcpus\?/);
    assert.match(bad([]), /NAME .* is required/);
    assert.match(bad(["Spot_1"]), /NAME "Spot_1"/);
    assert.match(
      bad(["spot"], { AWS_REGION: "us-east-1" }),
      /no cluster name: set --cluster-name or KOPS_CLUSTER_NAME/,
    );
    assert.match(bad(["spot"], { KOPS_CLUSTER_NAME: "c" }), /no region/);
    assert.ok(
      parseSelectArgs(["spot", "--output", "asg"], { AWS_REGION: "us-east-1" }).ok,
      "asg output needs no cluster",
    );
  });
});

describe("select filters", () => {
  it("vcpus-to-memory-ratio keeps exact ratios only", () => {
    const f = ratioFilter(4, "--vcpus-to-memory-ratio 1:4");
    assert.equal(f.eliminates(byName("m5.xlarge")), undefined);
    assert.equal(f.eliminates(byName("m4.large")), undefined);
    assert.match(f.eliminates(byName("c5.xlarge")) ?? "", /4 vCPUs with 8 GiB is 1:2/);
    assert.match(
      f.eliminates(byName("c4.large")) ?? "",
      /is 1:1\.88/,
      "3.75 GiB per vCPU is not 1:2 or 1:4",
    );
  });

  it("reports which filter eliminated the last candidates, with the funnel", () => {
    const result = applyFilters(records, [
      vcpusFilter({ min: 4, max: 4 }, "--vcpus 4"),
      ratioFilter(64, "--vcpus-to-memory-ratio 1:64"),
    ]);
    assert.equal(result.ok, false);
    if (result.ok) return;
    assert.equal(result.last, "--vcpus-to-memory-ratio 1:64");
    const message = describeNoMatch(result);
    assert.match(
      message,
      /^no instance type matches: --vcpus-to-memory-ratio 1:64 eliminated the last \d+ candidates/,
    );
    assert.match(message, /--vcpus 4 \(\d+ → \d+\)/);
  });

  it("--flexible fills in what the user left open, and says so in the labels", () => {
    const built = buildFilters(opts("--usage-class", "spot", "--flexible"), records);
    assert.ok(built.ok);
    const labels = built.filters.map((f) => f.by);
    assert.deepEqual(labels, [
      "--usage-class spot",
      "--flexible (amd64)",
      "--flexible (no bare metal)",
      "--flexible (no FPGA)",
      "--flexible (no GPUs)",
      "--flexible (no burstable types)",
      "--flexible (families c/m/r, generation 5+)",
      "--flexible (4 vCPUs)",
      "--flexible (vcpus-to-memory-ratio 1:2)",
    ]);
    const userSet = buildFilters(
      opts(
        "--flexible",
        "--cpu-architecture",
        "arm64",
        "--vcpus-to-memory-ratio",
        "1:4",
        "--burst-support",
      ),
      records,
    );
    assert.ok(userSet.ok);
    const userLabels = userSet.filters.map((f) => f.by);
    assert.ok(userLabels.includes("--cpu-architecture arm64"));
    assert.ok(userLabels.includes("--vcpus-to-memory-ratio 1:4"));
    assert.ok(userLabels.includes("--burst-support=true"));
    assert.ok(!userLabels.some((l) => l.includes("1:2") || l.includes("burstable")));
  });

  it("--flexible with 1:4 keeps a multi-generation, multi-family set of 1:4 amd64 types", () => {
    const r = selectCandidates(
      opts("--usage-class", "spot", "--flexible", "--vcpus-to-memory-ratio=1:4"),
      records,
    );
    assert.ok(r.ok);
    for (const t of r.candidates) {
      assert.equal(t.memoryMiB / 1024 / t.vcpus, 4, t.name);
      assert.equal(t.vcpus, 4, t.name);
      assert.ok(t.architectures.includes("amd64"), t.name);
      assert.ok(!t.burstable && !t.bareMetal && t.gpus === 0, t.name);
      assert.ok(t.generation >= 5, t.name);
    }
    assert.ok(new Set(r.candidates.map((t) => t.family)).size >= 6);
    assert.ok(new Set(r.candidates.map((t) => t.generation)).size >= 3);
  });

  it("--base-instance-type finds similarly sized types and rejects unknown ones", () => {
    const r = selectCandidates(
      opts("--base-instance-type", "m5.xlarge", "--usage-class", "spot"),
      records,
    );
    assert.ok(r.ok);
    assert.ok(r.candidates.some((t) => t.name === "m6i.xlarge"));
    for (const t of r.candidates) {
      assert.ok(t.vcpus >= 3 && t.vcpus <= 5, t.name);
      assert.ok(t.memoryMiB >= 14745 && t.memoryMiB <= 19661, t.name);
      assert.ok(!t.bareMetal && t.gpus === 0, t.name);
    }
    const missing = selectCandidates(opts("--base-instance-type", "m99.huge"), records);
    assert.deepEqual(missing, {
      ok: false,
      message: "--base-instance-type m99.huge: no such instance type in this region",
    });
  });

  it("allow-list, deny-list, gpus and zones filter by name, count and offering", () => {
    const allow = selectCandidates(
      opts("--allow-list", "^c6i\\.", "--deny-list", "large$"),
      records,
    );
    assert.ok(allow.ok);
    assert.deepEqual(allow.candidates.map((t) => t.name).sort(), ["c6i.metal"]);
    const gpu = selectCandidates(opts("--gpus-min", "1"), records);
    assert.ok(gpu.ok);
    assert.ok(gpu.candidates.every((t) => t.gpus >= 1) && gpu.candidates.length > 0);
    const offered = new Map([
      ["m5.large", new Set(["us-east-1a", "us-east-1b"])],
      ["m6i.large", new Set(["us-east-1a"])],
    ]);
    const zoned = selectCandidates(
      opts("--vcpus", "2", "--vcpus-to-memory-ratio", "1:4"),
      records,
      {
        zones: ["us-east-1a", "us-east-1b"],
        offered,
      },
    );
    assert.ok(zoned.ok);
    assert.deepEqual(
      zoned.candidates.map((t) => t.name),
      ["m5.large"],
    );
  });
});
