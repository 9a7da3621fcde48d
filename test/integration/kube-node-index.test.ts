// Queue mode's Node index against the real API server: built from
// spec.providerID by one list and a watch, following adds and deletes.
import assert from "node:assert/strict";
import { test } from "node:test";
import { CoreV1Api } from "@kubernetes/client-node";
import { createKubeClient } from "../../src/kube/client.ts";
import { createNodeIndex } from "../../src/kube/node-index.ts";
import { createNode, ground, kubeConfig, randomInstanceId } from "../env/ground.ts";
import { until } from "../support/eventually.ts";

test("the node index maps instance ids to nodes and follows changes", async () => {
  const core = kubeConfig().makeApiClient(CoreV1Api);
  const run = Math.random().toString(36).slice(2, 7);
  const first = { name: `drain-index-a-${run}`, instanceId: randomInstanceId() };
  await createNode(first);
  const kube = createKubeClient({ kubeconfigPath: ground().kubeconfig, qps: 50, burst: 100 });
  const index = createNodeIndex(kube);
  try {
    await index.start();
    assert.equal(index.synced, true);
    assert.equal(index.byInstanceId(first.instanceId)?.metadata?.name, first.name);
    assert.equal(index.byInstanceId("i-00000000000000000"), undefined);

    const second = { name: `drain-index-b-${run}`, instanceId: randomInstanceId() };
    await createNode(second);
    await until(
      "the new node in the index",
      () => index.byInstanceId(second.instanceId) !== undefined,
      20_000,
    );
    assert.equal(index.byName(second.name)?.spec?.providerID?.endsWith(second.instanceId), true);

    await core.deleteNode({ name: first.name });
    await until(
      "the deleted node out of the index",
      () => index.byInstanceId(first.instanceId) === undefined,
      20_000,
    );
    await core.deleteNode({ name: second.name });
  } finally {
    await index.stop();
    await core.deleteNode({ name: first.name }).catch(() => {});
  }
});
