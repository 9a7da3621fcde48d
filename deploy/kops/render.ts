#!/usr/bin/env node
// Renders the nthd manifest kOps would apply for a cluster's spec.nodeTerminationHandler.
// Usage: node deploy/kops/render.ts CLUSTER.yaml [--account 123456789012] [--image REPO]
//        [--tag TAG] [--helm PATH] [--values-only]
// Reads the kOps Cluster document, maps it (kops-values.ts) over deploy/kops/values-kops.yaml
// and runs `helm template` on charts/nthd. Writes the manifest (or the values, as JSON) to stdout.
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { loadAllYaml } from "@kubernetes/client-node";
import { type KopsCluster, kopsValues } from "./kops-values.ts";

const here = new URL(".", import.meta.url).pathname;
const chartDir = join(here, "..", "..", "charts", "nthd");
const baseValues = join(here, "values-kops.yaml");

export function findCluster(text: string): KopsCluster | undefined {
  const docs = loadAllYaml(text) as { kind?: string }[];
  return docs.find((d) => d?.kind === "Cluster") as KopsCluster | undefined;
}

function main(argv: string[]): number {
  const { values: flags, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      account: { type: "string" },
      image: { type: "string" },
      tag: { type: "string" },
      helm: { type: "string", default: process.env.HELM ?? "helm" },
      "kube-version": { type: "string", default: "1.35.4" },
      "values-only": { type: "boolean", default: false },
    },
  });
  const file = positionals[0];
  if (file === undefined) {
    process.stderr.write(
      "usage: render.ts CLUSTER.yaml [--account ID] [--image REPO] [--tag TAG] [--helm PATH]\n",
    );
    return 2;
  }
  const cluster = findCluster(readFileSync(file, "utf8"));
  if (cluster === undefined) {
    process.stderr.write(`${file}: no kind: Cluster document\n`);
    return 2;
  }
  const mapped = kopsValues(cluster, {
    ...(flags.account ? { accountId: flags.account } : {}),
    ...(flags.image ? { imageRepository: flags.image } : {}),
    ...(flags.tag ? { imageTag: flags.tag } : {}),
  });
  if (!mapped.ok) {
    process.stderr.write(`${file}: ${mapped.reason}\n`);
    return 1;
  }
  for (const note of mapped.notes) process.stderr.write(`render.ts: ${note}\n`);
  if (flags["values-only"]) {
    process.stdout.write(`${JSON.stringify(mapped.values, null, 2)}\n`);
    return 0;
  }
  const dir = mkdtempSync(join(tmpdir(), "nthd-kops-"));
  try {
    // JSON is YAML, so helm reads the mapped values as a values file.
    const clusterValues = join(dir, "cluster-values.json");
    writeFileSync(clusterValues, JSON.stringify(mapped.values));
    const manifest = execFileSync(
      flags.helm as string,
      [
        "template",
        "aws-node-termination-handler",
        chartDir,
        "--namespace",
        "kube-system",
        "--kube-version",
        flags["kube-version"] as string,
        "--values",
        baseValues,
        "--values",
        clusterValues,
      ],
      { encoding: "utf8", stdio: ["ignore", "pipe", "inherit"] },
    );
    process.stdout.write(manifest);
    return 0;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

if (import.meta.main) process.exitCode = main(process.argv.slice(2));
