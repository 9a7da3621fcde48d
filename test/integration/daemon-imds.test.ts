// End to end in IMDS mode: the real nthd program, the real metadata
// emulator announcing a Spot interruption, and a real API server with kwok.
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { CoreV1Api, type V1Node } from "@kubernetes/client-node";
import {
  freePort,
  ground,
  kubeConfig,
  type MetadataMock,
  nodeWithPods,
  startMetadataMock,
} from "../env/ground.ts";
import { eventually, startNthd } from "../env/nthd-process.ts";

const suffix = Math.random().toString(36).slice(2, 8);

describe("nthd in IMDS mode", () => {
  const kc = kubeConfig();
  const core = kc.makeApiClient(CoreV1Api);
  const namespace = `imds-e2e-${suffix}`;
  const nodeName = `imds-e2e-${suffix}`;
  let mock: MetadataMock;

  before(async () => {
    await nodeWithPods({ namespace, node: nodeName, replicas: 3 }, kc);
    mock = await startMetadataMock(["spot", "-a", "terminate", "-I"]);
  });
  after(async () => {
    await mock?.stop();
    await core.deleteNamespace({ name: namespace }).catch(() => {});
    await core.deleteNode({ name: nodeName }).catch(() => {});
  });

  test("a Spot interruption notice cordons, taints and drains the node; it becomes ready first", async () => {
    const probesPort = await freePort();
    const nthd = startNthd({
      NODE_NAME: nodeName,
      KUBECONFIG: ground().kubeconfig,
      INSTANCE_METADATA_URL: mock.url,
      TAINT_NODE: "true",
      EMIT_KUBERNETES_EVENTS: "true",
      ENABLE_PROBES_SERVER: "true",
      PROBES_SERVER_PORT: String(probesPort),
      NTHD_BIND_ADDRESS: "127.0.0.1",
    });
    try {
      const node: V1Node = await eventually("the node cordoned and tainted", async () => {
        const n = await core.readNode({ name: nodeName });
        return n.spec?.unschedulable === true &&
          n.spec.taints?.some((t) => t.key === "aws-node-termination-handler/spot-itn")
          ? n
          : undefined;
      });
      assert.equal(
        node.spec?.taints?.find((t) => t.key === "aws-node-termination-handler/spot-itn")?.effect,
        "NoSchedule",
      );
      // The ReplicaSet recreates evicted pods; none can land on the cordoned node.
      await eventually("no pods left on the node", async () => {
        const pods = await core.listNamespacedPod({
          namespace,
          fieldSelector: `spec.nodeName=${nodeName}`,
        });
        return pods.items.length === 0 ? true : undefined;
      });
      const events = await core.listNamespacedEvent({
        namespace: "default",
        fieldSelector: `involvedObject.name=${nodeName}`,
      });
      assert.ok(
        events.items.some((e) => e.reason === "SpotInterruption" || e.reason === "CordonAndDrain"),
        `expected a Kubernetes Event on the node, got: ${events.items.map((e) => e.reason).join(", ")}`,
      );
      const ready = await fetch(`http://127.0.0.1:${probesPort}/readyz`);
      assert.equal(ready.status, 200, await ready.text());
    } finally {
      const code = await nthd.stop();
      assert.equal(code, 0, `nthd exited with ${code}:\n${nthd.output()}`);
    }
  });

  test("a NODE_NAME that is no node of the cluster is a configuration error (exit 2)", async () => {
    const nthd = startNthd({
      NODE_NAME: `no-such-node-${suffix}`,
      KUBECONFIG: ground().kubeconfig,
      INSTANCE_METADATA_URL: mock.url,
    });
    const code = await nthd.exited();
    assert.equal(code, 2);
    assert.match(nthd.output(), /no-such-node-\w+ \(NODE_NAME\) does not exist in the cluster/);
  });
});
