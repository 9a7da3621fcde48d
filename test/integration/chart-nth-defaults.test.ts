// An aws-node-termination-handler release's values, every key at NTH's default
// (test/fixtures/chart/nth-default-values.yaml), go into nthd's chart unchanged but for the
// image, in both modes; the environment rendered from them means what it meant to NTH once
// nthd's own configuration loader reads it.
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, test } from "node:test";
import { loadYaml } from "@kubernetes/client-node";
import { loadConfig } from "../../src/config/index.ts";
import { CHART_DIR, CHART_KUBE_VERSION } from "../env/chart.ts";
import { peerBinary } from "../env/peers.ts";

const FIXTURE = join(CHART_DIR, "..", "..", "test", "fixtures", "chart", "nth-default-values.yaml");
const QUEUE_URL = "https://sqs.eu-west-1.amazonaws.com/123456789012/prod-nth";
const IMAGE = ["--set", "image.repository=registry.example.com/nthd", "--set", "image.tag=0.1.0"];

// biome-ignore lint/suspicious/noExplicitAny: rendered objects are inspected field by field
type Obj = { kind: string; spec?: any };

function render(args: readonly string[]): { objects: Obj[]; stderr: string; code: number } {
  const run = spawnSync(
    peerBinary("helm"),
    [
      "template",
      "aws-node-termination-handler",
      CHART_DIR,
      "--namespace",
      "kube-system",
      "--kube-version",
      CHART_KUBE_VERSION,
      "-f",
      FIXTURE,
      ...IMAGE,
      ...args,
    ],
    { encoding: "utf8" },
  );
  const objects =
    run.status === 0
      ? run.stdout
          .split(/^---\s*$/m)
          .filter((d) => /^kind:/m.test(d))
          .map((d) => JSON.parse(JSON.stringify(loadYaml(d))) as Obj)
      : [];
  return { objects, stderr: run.stderr, code: run.status ?? -1 };
}

function workload(objects: Obj[]): Obj {
  const found = objects.find((o) => o.kind === "DaemonSet" || o.kind === "Deployment");
  assert.ok(found, "no workload rendered");
  return found;
}

/** The container's literal environment, with the downward API filled in as the kubelet would. */
function podEnv(objects: Obj[]): Record<string, string> {
  const env: Record<string, string> = {};
  for (const e of workload(objects).spec.template.spec.containers[0].env ?? []) {
    if (e.value !== undefined) env[e.name] = e.value;
    else if (e.valueFrom?.fieldRef) env[e.name] = `from-${e.valueFrom.fieldRef.fieldPath}`;
  }
  return env;
}

describe("NTH's default values, every key", () => {
  test("the fixture lists every key nthd's values.yaml documents for NTH users", () => {
    const nth = Object.keys(loadYaml(readFileSync(FIXTURE, "utf8")) as object);
    const ours = new Set(
      Object.keys(loadYaml(readFileSync(join(CHART_DIR, "values.yaml"), "utf8")) as object),
    );
    const undocumented = nth.filter((k) => !ours.has(k));
    assert.deepEqual(undocumented, [], "every NTH key has a line in charts/nthd/values.yaml");
    assert.ok(nth.length >= 100, `${nth.length} keys`);
  });

  test("IMDS mode: accepted as they are; NTH's meanings reach nthd", () => {
    const r = render([]);
    assert.equal(r.code, 0, r.stderr);
    const ds = workload(r.objects);
    assert.equal(ds.kind, "DaemonSet");
    assert.equal(ds.spec.template.spec.dnsPolicy, "ClusterFirstWithHostNet", "linuxDnsPolicy");
    const env = podEnv(r.objects);
    assert.equal(env.POD_TERMINATION_GRACE_PERIOD, "-1");
    assert.equal(env.USE_APISERVER_CACHE, "false", "useAPIServerCacheToListPods");
    assert.equal(env.ENABLE_ASG_LIFECYCLE_DRAINING, "true");
    const { config, mode } = loadConfig([], env);
    assert.equal(mode, "imds");
    assert.equal(config.podTerminationGracePeriodSeconds, -1);
    assert.equal(config.jsonLogging, false, "NTH's jsonLogging: false is kept");
    assert.equal(config.enableAsgLifecycleDraining, true);
  });

  test("queue mode, replicas quoted: heartbeats stay off (-1), as they were", () => {
    const r = render([
      "--set",
      "enableSqsTerminationDraining=true",
      "--set",
      `queueURL=${QUEUE_URL}`,
      "--set-string",
      "replicas=2",
    ]);
    assert.equal(r.code, 0, r.stderr);
    const deployment = workload(r.objects);
    assert.equal(deployment.kind, "Deployment");
    assert.equal(deployment.spec.replicas, 2);
    const env = podEnv(r.objects);
    assert.equal(env.HEARTBEAT_INTERVAL, "-1");
    const { config, mode } = loadConfig([], env);
    assert.equal(mode, "queue");
    assert.equal(config.heartbeatIntervalSeconds, -1, "NTH's -1: no heartbeats");
    assert.equal(config.deleteSqsMsgIfNodeNotFound, false, "NTH's false is kept");
    assert.equal(config.useProviderId, false);
    assert.equal(config.sqsMsgVisibilityTimeoutSeconds, 20);
  });

  test("a quoted replica count that is not a number is refused at install", () => {
    const r = render([
      "--set",
      "enableSqsTerminationDraining=true",
      "--set",
      `queueURL=${QUEUE_URL}`,
      "--set-string",
      "replicas=two",
    ]);
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /replicas/);
  });
});
