/**
 * `nthd select` end to end: the real CLI as a child process against the test
 * ground's moto (whose DescribeInstanceTypes serves real instance-type data).
 * Checks the kOps blog command's groups against the instance types moto
 * reports, validates the manifests against the kOps InstanceGroup fields the
 * command uses, feeds the asg output to moto's Auto Scaling, and ranks with
 * interruption counts from a small local Prometheus-API answerer (no
 * Prometheus server is part of the test ground).
 */
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { after, before, describe, it } from "node:test";
import {
  AutoScalingClient,
  CreateAutoScalingGroupCommand,
  type CreateAutoScalingGroupCommandInput,
  DeleteAutoScalingGroupCommand,
  DescribeAutoScalingGroupsCommand,
} from "@aws-sdk/client-auto-scaling";
import {
  CreateLaunchTemplateCommand,
  DeleteLaunchTemplateCommand,
  DescribeInstanceTypesCommand,
  EC2Client,
  type InstanceTypeInfo,
} from "@aws-sdk/client-ec2";
// js-yaml itself: client-node's loadYaml re-types metadata and drops unknown fields.
import { loadAll } from "js-yaml";
import { ground } from "../env/ground.ts";
import { type NthdRun, runNthd } from "../env/nthd-process.ts";

const REGION = "us-east-1";
const CREDENTIALS = { accessKeyId: "testing", secretAccessKey: "testing" };
const CLUSTER = "select.k8s.local";

function select(args: string[]): Promise<NthdRun> {
  return runNthd(["select", ...args], {
    env: {
      PATH: process.env.PATH ?? "",
      AWS_ENDPOINT_URL: ground().motoUrl,
      AWS_REGION: REGION,
      AWS_ACCESS_KEY_ID: CREDENTIALS.accessKeyId,
      AWS_SECRET_ACCESS_KEY: CREDENTIALS.secretAccessKey,
      KOPS_CLUSTER_NAME: CLUSTER,
    },
  });
}

// The kOps InstanceGroup (kops.k8s.io/v1alpha2) fields `nthd select` writes,
// with their types in kOps' API (InstanceGroupSpec, MixedInstancesPolicySpec).
// Any other field in the output fails the test: the list is the contract.
type FieldType = "string" | "integer" | "boolean" | "string[]" | "string-map" | "object";
const KOPS_FIELDS: Readonly<Record<string, FieldType>> = {
  apiVersion: "string",
  kind: "string",
  metadata: "object",
  "metadata.name": "string",
  "metadata.labels": "string-map",
  spec: "object",
  "spec.role": "string",
  "spec.machineType": "string",
  "spec.minSize": "integer",
  "spec.maxSize": "integer",
  "spec.subnets": "string[]",
  "spec.capacityRebalance": "boolean",
  "spec.mixedInstancesPolicy": "object",
  "spec.mixedInstancesPolicy.instances": "string[]",
  "spec.mixedInstancesPolicy.onDemandBase": "integer",
  "spec.mixedInstancesPolicy.onDemandAboveBase": "integer",
  "spec.mixedInstancesPolicy.spotAllocationStrategy": "string",
  "spec.cloudLabels": "string-map",
  "spec.nodeLabels": "string-map",
};
/** Values kOps accepts for these fields. */
const KOPS_ENUMS: Readonly<Record<string, readonly string[]>> = {
  apiVersion: ["kops.k8s.io/v1alpha2"],
  kind: ["InstanceGroup"],
  "spec.role": ["Node", "Master", "ControlPlane", "APIServer", "Bastion"],
  "spec.mixedInstancesPolicy.spotAllocationStrategy": [
    "lowest-price",
    "capacity-optimized",
    "capacity-optimized-prioritized",
    "price-capacity-optimized",
  ],
};

function checkType(path: string, value: unknown, type: FieldType): string | undefined {
  const ok =
    type === "string"
      ? typeof value === "string"
      : type === "integer"
        ? Number.isInteger(value)
        : type === "boolean"
          ? typeof value === "boolean"
          : type === "string[]"
            ? Array.isArray(value) && value.every((v) => typeof v === "string")
            : typeof value === "object" &&
              value !== null &&
              !Array.isArray(value) &&
              (type === "object" || Object.values(value).every((v) => typeof v === "string"));
  return ok ? undefined : `${path}: expected ${type}, got ${JSON.stringify(value)}`;
}

/** Every field known and well typed; enums within kOps' values. */
function validateInstanceGroup(doc: unknown, prefix = ""): string[] {
  const problems: string[] = [];
  for (const [key, value] of Object.entries(doc as Record<string, unknown>)) {
    const path = prefix === "" ? key : `${prefix}.${key}`;
    const type = KOPS_FIELDS[path];
    if (type === undefined) {
      problems.push(`${path}: not an InstanceGroup field nthd select is meant to write`);
      continue;
    }
    const bad = checkType(path, value, type);
    if (bad !== undefined) problems.push(bad);
    else if (type === "object") problems.push(...validateInstanceGroup(value, path));
    const allowed = KOPS_ENUMS[path];
    if (allowed !== undefined && !allowed.includes(value as string))
      problems.push(`${path}: ${String(value)} not in ${allowed.join(", ")}`);
  }
  return problems;
}

interface InstanceGroupDoc {
  metadata: { name: string; labels: Record<string, string> };
  spec: {
    machineType: string;
    mixedInstancesPolicy: {
      instances: string[];
      spotAllocationStrategy: string;
      onDemandAboveBase: number;
    };
    cloudLabels: Record<string, string>;
    nodeLabels: Record<string, string>;
  };
}

describe("nthd select against the test ground's EC2", () => {
  let ec2: EC2Client;
  let autoscaling: AutoScalingClient;
  const info = new Map<string, InstanceTypeInfo>();

  before(async () => {
    const common = { region: REGION, endpoint: ground().motoUrl, credentials: CREDENTIALS };
    ec2 = new EC2Client(common);
    autoscaling = new AutoScalingClient(common);
    let token: string | undefined;
    do {
      const page = await ec2.send(new DescribeInstanceTypesCommand({ NextToken: token }));
      for (const t of page.InstanceTypes ?? []) if (t.InstanceType) info.set(t.InstanceType, t);
      token = page.NextToken || undefined;
    } while (token !== undefined);
  });
  after(() => {
    ec2.destroy();
    autoscaling.destroy();
  });

  it("the kOps blog command yields two disjoint groups of 1:4 types over several families and generations", async () => {
    const res = await select([
      "spot",
      "--usage-class",
      "spot",
      "--flexible",
      "--cluster-autoscaler",
      "--vcpus-to-memory-ratio=1:4",
      "--ig-count",
      "2",
      "--output",
      "kops",
    ]);
    assert.equal(res.code, 0, res.stderr);
    const docs = loadAll(res.stdout) as InstanceGroupDoc[];
    assert.equal(docs.length, 2);
    assert.deepEqual(
      docs.map((d) => d.metadata.name),
      ["spot1", "spot2"],
    );

    const familiesOf = (d: InstanceGroupDoc) =>
      new Set(d.spec.mixedInstancesPolicy.instances.map((t) => t.split(".")[0]));
    for (const doc of docs) {
      assert.deepEqual(validateInstanceGroup(doc), [], "fields and types of a kOps InstanceGroup");
      const types = doc.spec.mixedInstancesPolicy.instances;
      assert.ok(types.length >= 4, `${doc.metadata.name}: ${types.join(" ")}`);
      assert.equal(doc.spec.machineType, types[0]);
      for (const t of types) {
        const ti = info.get(t);
        assert.ok(ti, `${t} is an instance type the ground's EC2 knows`);
        const ratio = (ti.MemoryInfo?.SizeInMiB ?? 0) / 1024 / (ti.VCpuInfo?.DefaultVCpus ?? 1);
        assert.equal(
          ratio,
          4,
          `${t}: ${ti.VCpuInfo?.DefaultVCpus} vCPUs, ${ti.MemoryInfo?.SizeInMiB} MiB`,
        );
        assert.ok(ti.SupportedUsageClasses?.includes("spot"), `${t} offered as Spot`);
        assert.ok(ti.ProcessorInfo?.SupportedArchitectures?.includes("x86_64"), `${t} is amd64`);
      }
      assert.ok(familiesOf(doc).size >= 3, `${doc.metadata.name}: several families`);
      const generations = new Set(types.map((t) => /^[a-z]+(\d+)/.exec(t)?.[1]));
      assert.ok(
        generations.size >= 2,
        `${doc.metadata.name}: several generations (${[...generations]})`,
      );
      assert.equal(
        doc.spec.mixedInstancesPolicy.spotAllocationStrategy,
        "price-capacity-optimized",
      );
      assert.equal(doc.spec.mixedInstancesPolicy.onDemandAboveBase, 0);
      assert.equal(doc.metadata.labels["kops.k8s.io/cluster"], CLUSTER);
      assert.equal(doc.spec.cloudLabels["aws-node-termination-handler/managed"], "true");
      assert.ok("k8s.io/cluster-autoscaler/enabled" in doc.spec.cloudLabels);
      assert.ok(`k8s.io/cluster-autoscaler/${CLUSTER}` in doc.spec.cloudLabels);
      assert.equal(doc.spec.nodeLabels["node.kubernetes.io/lifecycle"], "spot");
    }
    const [a, b] = docs.map(familiesOf) as [Set<string>, Set<string>];
    for (const f of a) assert.ok(!b.has(f), `family ${f} is in both groups`);
    assert.match(res.stderr, /spot1: \d+ types, \d+ families/);
  });

  it("impossible requirements exit 2 and name the filter that eliminated the last candidates", async () => {
    const res = await select([
      "tiny",
      "--vcpus",
      "2",
      "--vcpus-to-memory-ratio",
      "1:64",
      "--output",
      "asg",
    ]);
    assert.equal(res.code, 2);
    assert.equal(res.stdout, "");
    assert.match(
      res.stderr,
      /no instance type matches: --vcpus-to-memory-ratio 1:64 eliminated the last \d+ candidates/,
    );
  });

  it("asg output is accepted by the ground's Auto Scaling as CreateAutoScalingGroup input", async () => {
    const name = `sel-${randomBytes(4).toString("hex")}`;
    const res = await select([
      name,
      "--usage-class",
      "spot",
      "--flexible",
      "--subnets",
      "us-east-1a,us-east-1b",
      "--output",
      "asg",
    ]);
    assert.equal(res.code, 0, res.stderr);
    const [input] = JSON.parse(res.stdout) as CreateAutoScalingGroupCommandInput[];
    assert.ok(input);
    const lt = await ec2.send(
      new CreateLaunchTemplateCommand({
        LaunchTemplateName: name,
        LaunchTemplateData: { ImageId: "ami-12c6146b" },
      }),
    );
    try {
      await autoscaling.send(new CreateAutoScalingGroupCommand(input));
      const out = await autoscaling.send(
        new DescribeAutoScalingGroupsCommand({ AutoScalingGroupNames: [name] }),
      );
      const group = out.AutoScalingGroups?.[0];
      const overrides = group?.MixedInstancesPolicy?.LaunchTemplate?.Overrides?.map(
        (o) => o.InstanceType,
      );
      assert.deepEqual(
        overrides,
        input.MixedInstancesPolicy?.LaunchTemplate?.Overrides?.map((o) => o.InstanceType),
      );
      assert.deepEqual(group?.AvailabilityZones?.sort(), ["us-east-1a", "us-east-1b"]);
      assert.ok(group?.Tags?.some((t) => t.Key === "aws-node-termination-handler/managed"));
    } finally {
      await autoscaling
        .send(new DeleteAutoScalingGroupCommand({ AutoScalingGroupName: name, ForceDelete: true }))
        .catch(() => {});
      await ec2.send(
        new DeleteLaunchTemplateCommand({ LaunchTemplateId: lt.LaunchTemplate?.LaunchTemplateId }),
      );
    }
  });

  describe("--prefer-stable", () => {
    let server: Server;
    let url = "";
    const queries: string[] = [];
    // What Prometheus would answer: the newest 1:4 types were interrupted most.
    const interrupted = ["m8a.xlarge", "m8i.xlarge", "m8azn.xlarge", "m8i-flex.xlarge"];

    before(async () => {
      server = createServer((req, res) => {
        const asked = new URL(req.url ?? "/", "http://x");
        if (asked.pathname.startsWith("/broken/")) {
          res.statusCode = 502;
          res.end("bad gateway");
          return;
        }
        queries.push(asked.searchParams.get("query") ?? "");
        res.setHeader("content-type", "application/json");
        res.end(
          JSON.stringify({
            status: "success",
            data: {
              resultType: "vector",
              result: interrupted.map((t, i) => ({
                metric: { instance_type: t },
                value: [0, String(20 - i)],
              })),
            },
          }),
        );
      });
      await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
      url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    });
    after(() => new Promise<void>((resolve) => server.close(() => resolve())));

    it("queries nthd's interruption counts and leaves the most interrupted pools out", async () => {
      const base = [
        "stable",
        "--usage-class",
        "spot",
        "--flexible",
        "--vcpus-to-memory-ratio=1:4",
        "--max-results",
        "6",
        "--output",
        "eksctl",
      ];
      const plain = await select(base);
      assert.equal(plain.code, 0, plain.stderr);
      assert.ok(
        interrupted.some((t) => plain.stdout.includes(`- ${t}\n`)),
        "without ranking, the newest types are picked",
      );
      const stable = await select([
        ...base,
        "--prefer-stable",
        "--metrics-url",
        url,
        "--stable-window-days",
        "7",
      ]);
      assert.equal(stable.code, 0, stable.stderr);
      for (const t of interrupted)
        assert.ok(!stable.stdout.includes(`- ${t}\n`), `${t} should be ranked out`);
      assert.ok(
        queries.some((q) => q.includes("nthd_interruptions_total") && q.includes("[7d]")),
        queries.join("\n"),
      );
      assert.match(stable.stderr, /interruptions seen/);
    });

    it("fails clearly, exit 1, when the metrics endpoint does not answer like Prometheus", async () => {
      const res = await select([
        "stable",
        "--flexible",
        "--output",
        "asg",
        "--prefer-stable",
        "--metrics-url",
        `${url}/broken/`,
      ]);
      assert.equal(res.code, 1);
      assert.equal(res.stdout, "");
      assert.match(
        res.stderr,
        /--prefer-stable: reading interruption counts: http:\/\/127\.0\.0\.1:\d+: HTTP 502, not JSON/,
      );
    });
  });
});
