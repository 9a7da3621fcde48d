/**
 * `nthd select` output: one golden file per --output format (from the
 * fixture instance types, so a change in selection or rendering shows up as a
 * reviewed diff), every YAML output read back by a real YAML parser, and the
 * emitter's quoting. Regenerate goldens with NTHD_UPDATE_GOLDEN=1.
 */
import assert from "node:assert/strict";
import { readFileSync, writeFileSync } from "node:fs";
import { describe, it } from "node:test";
// js-yaml itself (what @kubernetes/client-node parses with): client-node's
// loadYaml re-types `metadata` as ObjectMeta and drops fields it does not know.
import { loadAll as loadAllYaml, load as loadYaml } from "js-yaml";
import {
  OUTPUT_FORMATS,
  type OutputFormat,
  parseSelectArgs,
} from "../../src/commands/select/options.ts";
import { planSelection } from "../../src/commands/select/plan.ts";
import { logicalId } from "../../src/commands/select/render/cloudformation.ts";
import { RENDERERS } from "../../src/commands/select/render/index.ts";
import { toYaml, type YamlValue } from "../../src/commands/select/render/yaml.ts";
import { fixtureRecords } from "../fixtures/select/load.ts";

const records = fixtureRecords();
const ENV = { AWS_REGION: "us-east-1", KOPS_CLUSTER_NAME: "k8s.example.com" };
const EXT: Record<OutputFormat, string> = {
  kops: "yaml",
  asg: "json",
  cloudformation: "yaml",
  eksctl: "yaml",
};

/** The kOps blog command, plus subnets so every format shows its zone handling. */
function render(format: OutputFormat): string {
  const args = [
    "spot",
    "--usage-class",
    "spot",
    "--flexible",
    "--cluster-autoscaler",
    "--vcpus-to-memory-ratio=1:4",
  ];
  args.push("--ig-count", "2", "--max-results", "6", "--output", format);
  const subnetIds =
    format === "asg" || format === "cloudformation" ? ["subnet-0a1b2c3d", "subnet-4e5f6a7b"] : [];
  if (format === "kops") args.push("--subnets", "us-east-1a,us-east-1b");
  const parsed = parseSelectArgs(args, ENV);
  assert.ok(parsed.ok, parsed.ok ? "" : parsed.message);
  const plan = planSelection(parsed.options, records);
  assert.ok(plan.ok, plan.ok ? "" : plan.message);
  const zones = ["us-east-1a", "us-east-1b"];
  return RENDERERS[format]({ options: parsed.options, plan: plan.plan, zones, subnetIds });
}

describe("select golden outputs", () => {
  for (const format of OUTPUT_FORMATS) {
    it(`--output ${format} matches its golden file`, () => {
      const file = new URL(`../fixtures/select/golden-${format}.${EXT[format]}`, import.meta.url);
      const text = render(format);
      if (process.env.NTHD_UPDATE_GOLDEN === "1") writeFileSync(file, text);
      assert.equal(text, readFileSync(file, "utf8"));
    });
  }

  it("kops output parses as two InstanceGroups with the tags queue mode and Cluster Autoscaler look for", () => {
    const docs = loadAllYaml(render("kops")) as {
      kind: string;
      metadata: { name: string };
      spec: { mixedInstancesPolicy: { instances: string[] }; cloudLabels: Record<string, string> };
    }[];
    assert.deepEqual(
      docs.map((d) => [d.kind, d.metadata.name]),
      [
        ["InstanceGroup", "spot1"],
        ["InstanceGroup", "spot2"],
      ],
    );
    for (const d of docs) {
      assert.equal(d.spec.cloudLabels["aws-node-termination-handler/managed"], "true");
      assert.equal(d.spec.cloudLabels["k8s.io/cluster-autoscaler/enabled"], "true");
      assert.equal(d.spec.cloudLabels["k8s.io/cluster-autoscaler/k8s.example.com"], "owned");
    }
  });

  it("asg output is CreateAutoScalingGroup input with the subnets and a Spot distribution", () => {
    const groups = JSON.parse(render("asg")) as {
      VPCZoneIdentifier: string;
      MixedInstancesPolicy: {
        InstancesDistribution: Record<string, unknown>;
        LaunchTemplate: { Overrides: unknown[] };
      };
    }[];
    assert.equal(groups.length, 2);
    for (const g of groups) {
      assert.equal(g.VPCZoneIdentifier, "subnet-0a1b2c3d,subnet-4e5f6a7b");
      assert.deepEqual(g.MixedInstancesPolicy.InstancesDistribution, {
        OnDemandBaseCapacity: 0,
        OnDemandPercentageAboveBaseCapacity: 0,
        SpotAllocationStrategy: "price-capacity-optimized",
      });
      assert.equal(g.MixedInstancesPolicy.LaunchTemplate.Overrides.length, 6);
    }
  });

  it("cloudformation and eksctl outputs parse, with one group each per selection group", () => {
    const cfn = loadYaml(render("cloudformation")) as {
      Resources: Record<string, { Type: string }>;
    };
    assert.deepEqual(Object.keys(cfn.Resources), [
      "Spot1AutoScalingGroup",
      "Spot2AutoScalingGroup",
    ]);
    const eks = loadYaml(render("eksctl")) as {
      metadata: { region: string };
      nodeGroups: { name: string }[];
    };
    assert.equal(eks.metadata.region, "us-east-1");
    assert.deepEqual(
      eks.nodeGroups.map((g) => g.name),
      ["spot1", "spot2"],
    );
    assert.equal(logicalId("spot-a1"), "SpotA1");
  });
});

describe("select YAML emitter", () => {
  it("quotes every string a YAML reader would turn into something else", () => {
    const tricky: YamlValue = {
      one: "1",
      float: "1.5",
      yes: "yes",
      no: "No",
      on: "on",
      nul: "null",
      tilde: "~",
      empty: "",
      latest: "$Latest",
      colon: "a: b",
      hash: "x #y",
      time: "8:00",
      date: "2026-01-02",
      lead: "-dash",
      star: "*ref",
      newline: "two\nlines",
      unicode: "zone é",
      "key with: colon": "v",
      nested: { list: ["m5.large", "1", true, 2, null], empty: [], map: {} },
      seq: [{ a: "b", c: ["d"] }, ["e", "f"]],
    };
    const text = toYaml(tricky);
    assert.deepEqual(loadYaml(text), tricky);
    assert.match(
      text,
      /^ {2}list:\n {4}- m5\.large\n {4}- "1"\n/m,
      "plain where safe, quoted where not",
    );
  });

  it("skips undefined fields and refuses numbers YAML cannot hold", () => {
    assert.equal(toYaml({ a: undefined, b: 1 }), "b: 1\n");
    assert.throws(() => toYaml({ n: Number.NaN }), /not a finite number/);
  });
});
