// Per-mode resources in the chart and the Node.js heap limit derived from the
// memory limit, rendered with the real helm binary (no ground needed).
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { renderChart } from "../env/chart.ts";

const QUEUE = [
  "--set",
  "enableSqsTerminationDraining=true",
  "--set",
  "queueURL=https://sqs.us-east-1.amazonaws.com/123456789012/q",
];

interface Container {
  command: string[];
  resources?: { requests?: Record<string, string>; limits?: Record<string, string> };
}

function container(args: readonly string[]): Container {
  const objects = renderChart("t", "nthd-test", args);
  const workload = objects.find((o) => o.kind === "Deployment" || o.kind === "DaemonSet");
  assert.ok(workload, "no workload rendered");
  return (workload as unknown as { spec: { template: { spec: { containers: Container[] } } } }).spec
    .template.spec.containers[0] as Container;
}

const heapFlag = (c: Container) => c.command.find((f) => f.startsWith("--max-old-space-size"));

describe("chart: resources and heap limit per mode", () => {
  test("each mode gets its own defaults, and a heap limit of half its memory limit", () => {
    const queue = container(QUEUE);
    const imds = container([]);
    assert.notDeepEqual(queue.resources, imds.resources);
    assert.equal(heapFlag(queue), "--max-old-space-size=128");
    assert.equal(queue.resources?.limits?.memory, "256Mi");
    assert.equal(heapFlag(imds), "--max-old-space-size=64");
    assert.equal(imds.resources?.limits?.memory, "128Mi");
    assert.equal(queue.command.at(-1), "/app/nthd.mjs");
    assert.equal(imds.command[0], "/nodejs/bin/node");
  });

  test("resources are laid over the mode's defaults, and the heap limit follows the memory limit", () => {
    const raised = container([...QUEUE, "--set", "resources.limits.memory=1Gi"]);
    assert.equal(raised.resources?.limits?.memory, "1Gi");
    assert.equal(raised.resources?.requests?.memory, "128Mi", "the mode's request stays");
    assert.equal(heapFlag(raised), "--max-old-space-size=512");
    const decimal = container(["--set", "resources.limits.memory=300M"]);
    assert.equal(heapFlag(decimal), "--max-old-space-size=143");
    const bytes = container(["--set-string", "resources.limits.memory=268435456"]);
    assert.equal(heapFlag(bytes), "--max-old-space-size=128");
  });

  test("a limit the template cannot read, or none, gets no heap flag", () => {
    assert.equal(heapFlag(container(["--set", "resources.limits.memory=0.5Gi"])), undefined);
    assert.equal(heapFlag(container(["--set", "imdsResources.limits=null"])), undefined);
  });

  test("NTH-style resources replace the requests and limit they name", () => {
    const c = container([
      ...QUEUE,
      "--set",
      "resources.requests.cpu=100m",
      "--set",
      "resources.requests.memory=200Mi",
      "--set",
      "resources.limits.memory=400Mi",
    ]);
    assert.deepEqual(c.resources, {
      requests: { cpu: "100m", memory: "200Mi" },
      limits: { memory: "400Mi" },
    });
    assert.equal(heapFlag(c), "--max-old-space-size=200");
  });
});
