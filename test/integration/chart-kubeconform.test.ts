// Every manifest the chart renders, and the committed kOps examples, checked offline by
// kubeconform in strict mode against JSON schemas generated from the test ground's own
// kube-apiserver (/openapi/v2), so the schemas are exactly the Kubernetes version nthd
// targets. The server-side dry run in chart-apiserver.test.ts checks the same objects
// through the apiserver itself; this is the check a user can repeat without a cluster.
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { loadYaml } from "@kubernetes/client-node";
import { CHART_DIR, CHART_KUBE_VERSION } from "../env/chart.ts";
import { kubeConfig, peerBinary } from "../env/ground.ts";
import {
  fetchOpenApiV2,
  kubeconformFileName,
  writeKubeconformSchemas,
} from "../env/openapi-schemas.ts";

const root = join(new URL(".", import.meta.url).pathname, "..", "..");
const fixtures = join(root, "test", "fixtures", "chart");
const kopsExamples = join(root, "deploy", "kops", "examples");
const QUEUE = ["--set", "mode=queue", "--set", "queueURL=https://sqs.us-east-1.amazonaws.com/1/q"];
const NTHD_IMAGE = [
  "--set",
  "image.repository=registry.example.com/nthd",
  "--set",
  "image.tag=0.1.0",
];
/**
 * Prometheus Operator kinds: their CRDs are not installed in the test ground, so its
 * apiserver publishes no schema for them. They are the only kinds skipped; any other
 * kind without a schema is an error (see the last test).
 */
const CRD_KINDS = ["ServiceMonitor", "PodMonitor", "PrometheusRule"];

interface KubeconformResource {
  filename: string;
  kind: string;
  name: string;
  version: string;
  status: "statusValid" | "statusInvalid" | "statusError" | "statusSkipped";
  msg: string;
}
interface KubeconformReport {
  resources: KubeconformResource[];
  summary: { valid: number; invalid: number; errors: number; skipped: number };
}

let work = "";
let schemaDir = "";

/** kubeconform -strict over files; -verbose lists valid resources too. */
function kubeconform(files: readonly string[]): { code: number; report: KubeconformReport } {
  const run = spawnSync(
    peerBinary("kubeconform"),
    [
      "-strict",
      "-summary",
      "-verbose",
      "-output",
      "json",
      "-schema-location",
      join(schemaDir, "{{ .ResourceKind }}{{ .KindSuffix }}.json"),
      "-skip",
      CRD_KINDS.join(","),
      ...files,
    ],
    { encoding: "utf8" },
  );
  assert.ok(run.stdout, `kubeconform printed nothing (exit ${run.status}): ${run.stderr}`);
  return { code: run.status ?? -1, report: JSON.parse(run.stdout) as KubeconformReport };
}

/** `helm template` with the ground's helm, written as helm printed it. */
function renderToFile(file: string, args: readonly string[]): string {
  const run = spawnSync(
    peerBinary("helm"),
    [
      "template",
      "kc",
      CHART_DIR,
      "--namespace",
      "nthd-kubeconform",
      "--kube-version",
      CHART_KUBE_VERSION,
      ...args,
    ],
    { encoding: "utf8" },
  );
  assert.equal(run.status, 0, `helm template failed: ${run.stderr}`);
  const path = join(work, file);
  writeFileSync(path, run.stdout);
  return path;
}

interface Manifest {
  kind: string;
  // biome-ignore lint/suspicious/noExplicitAny: rendered objects are edited field by field
  [field: string]: any;
}

/** The documents of a manifest file, parsed independently of kubeconform. */
function documentsOf(file: string): Manifest[] {
  return readFileSync(file, "utf8")
    .split(/^---\s*$/m)
    .filter((doc) => doc.split("\n").some((line) => line.trim() !== "" && !line.startsWith("#")))
    .map((doc) => JSON.parse(JSON.stringify(loadYaml(doc))) as Manifest);
}

function describeProblems(resources: readonly KubeconformResource[]): string {
  return resources
    .filter((r) => r.status !== "statusValid" && r.status !== "statusSkipped")
    .map((r) => `${r.kind} ${r.name}: ${r.status} ${r.msg}`)
    .join("\n");
}

before(async () => {
  work = mkdtempSync(join(tmpdir(), "nthd-kubeconform-"));
  schemaDir = join(work, "schemas");
  const written = writeKubeconformSchemas(await fetchOpenApiV2(kubeConfig()), schemaDir);
  // The core, apps, policy and RBAC kinds alone are dozens; a handful means a broken fetch.
  assert.ok(written > 100, `only ${written} schemas generated`);
});
after(() => {
  if (work) rmSync(work, { recursive: true, force: true });
});

describe("kubeconform -strict against the ground's own schemas", () => {
  const variants: Record<string, readonly string[]> = {
    "IMDS default": [],
    "IMDS without host network": ["--set", "useHostNetwork=false"],
    "IMDS with PodMonitor and PrometheusRule": [
      "--set",
      "enablePrometheusServer=true",
      "--set",
      "podMonitor.create=true",
      "--set",
      "prometheusRule.create=true",
    ],
    "queue with ServiceMonitor": [...QUEUE, "--set", "serviceMonitor.create=true"],
    "NTH queue values": ["-f", join(fixtures, "nth-values-queue.yaml"), ...NTHD_IMAGE],
    "NTH IMDS values": ["-f", join(fixtures, "nth-values-imds.yaml"), ...NTHD_IMAGE],
  };
  const sources: [string, () => string][] = [
    ...Object.entries(variants).map(([name, args]): [string, () => string] => [
      `chart, ${name}`,
      () => renderToFile(`${name.replaceAll(" ", "-")}.yaml`, args),
    ]),
    ...["imds", "queue", "rebalance-irsa"].map((example): [string, () => string] => [
      `kOps example ${example}-manifest.yaml`,
      () => join(kopsExamples, `${example}-manifest.yaml`),
    ]),
  ];

  for (const [name, source] of sources) {
    test(`${name}: every object is valid`, () => {
      const file = source();
      const kinds = documentsOf(file)
        .map((doc) => doc.kind)
        .sort();
      const { code, report } = kubeconform([file]);
      assert.equal(code, 0, describeProblems(report.resources));
      // Every document was seen, and each was validated unless it is a CRD kind.
      assert.deepEqual(report.resources.map((r) => r.kind).sort(), kinds);
      for (const r of report.resources) {
        const expected = CRD_KINDS.includes(r.kind) ? "statusSkipped" : "statusValid";
        assert.equal(r.status, expected, `${r.kind} ${r.name}: ${r.msg}`);
      }
      assert.ok(report.summary.valid >= 4, `only ${report.summary.valid} objects validated`);
    });
  }

  test("the skipped kinds are exactly those the ground publishes no schema for", () => {
    const group = { group: "monitoring.coreos.com", version: "v1" };
    for (const kind of CRD_KINDS) {
      assert.equal(existsSync(join(schemaDir, kubeconformFileName({ ...group, kind }))), false);
    }
    // ...while the kinds the chart renders besides them all have one.
    for (const [group, version, kind] of [
      ["", "v1", "ServiceAccount"],
      ["", "v1", "Service"],
      ["apps", "v1", "DaemonSet"],
      ["apps", "v1", "Deployment"],
      ["policy", "v1", "PodDisruptionBudget"],
      ["rbac.authorization.k8s.io", "v1", "ClusterRole"],
      ["rbac.authorization.k8s.io", "v1", "ClusterRoleBinding"],
      ["rbac.authorization.k8s.io", "v1", "Role"],
      ["rbac.authorization.k8s.io", "v1", "RoleBinding"],
    ] as const) {
      const file = join(schemaDir, kubeconformFileName({ group, version, kind }));
      assert.ok(existsSync(file), `no schema ${file}`);
    }
  });
});

describe("the schemas are strict (negative controls)", () => {
  const daemonSet = (): Manifest => {
    const found = documentsOf(renderToFile("control.yaml", [])).find(
      (doc) => doc.kind === "DaemonSet",
    );
    assert.ok(found, "the default rendering has no DaemonSet");
    return found;
  };

  test("an unknown field at any depth is invalid; the untouched object is valid", () => {
    const edits: Record<string, (ds: Manifest) => void> = {
      untouched: () => undefined,
      "metadata.colour": (ds) => {
        ds.metadata.colour = "blue";
      },
      "spec.replicas": (ds) => {
        ds.spec.replicas = 2; // a Deployment field: DaemonSets have none
      },
      "containers[0].imagePullPolicyy": (ds) => {
        ds.spec.template.spec.containers[0].imagePullPolicyy = "Always";
      },
    };
    const files = Object.entries(edits).map(([edit, apply]) => {
      const ds = daemonSet();
      ds.metadata.name = edit.replace(/[^a-z0-9]+/gi, "-").toLowerCase();
      apply(ds);
      const path = join(work, `edit-${ds.metadata.name}.yaml`);
      writeFileSync(path, JSON.stringify(ds));
      return path;
    });
    const { code, report } = kubeconform(files);
    assert.notEqual(code, 0);
    const byName = new Map(report.resources.map((r) => [r.name, r]));
    const untouched = byName.get("untouched");
    assert.equal(untouched?.status, "statusValid", untouched?.msg ?? "not reported");
    for (const [name, field] of [
      ["metadata-colour", "colour"],
      ["spec-replicas", "replicas"],
      ["containers-0-imagepullpolicyy", "imagePullPolicyy"],
    ] as const) {
      const result = byName.get(name);
      assert.equal(result?.status, "statusInvalid", `${name}: ${result?.status} ${result?.msg}`);
      assert.match(result.msg, new RegExp(`additional properties '${field}' not allowed`));
    }
  });

  test("a kind the ground has no schema for is an error, not a pass", () => {
    const path = join(work, "widget.yaml");
    writeFileSync(
      path,
      "apiVersion: example.com/v1\nkind: Widget\nmetadata:\n  name: w\nspec: {}\n",
    );
    const { code, report } = kubeconform([path]);
    assert.notEqual(code, 0);
    assert.equal(report.resources[0]?.status, "statusError");
    assert.match(report.resources[0]?.msg ?? "", /could not find schema for Widget/);
  });
});
