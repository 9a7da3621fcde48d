// A 409 on an eviction, provoked on the real API server: the pod nthd
// planned for was deleted and a new pod took its name (as a StatefulSet
// does), so the eviction's uid precondition fails. nthd reads the pod again,
// sees another incarnation and counts the planned one gone; the new pod is
// left alone.
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { CoreV1Api, type V1Pod } from "@kubernetes/client-node";
import { evictPod } from "../../src/drain/evict.ts";
import { classifyKubeError } from "../../src/kube/api-error.ts";
import { createKubeClient, type KubeClient } from "../../src/kube/client.ts";
import { ground, kubeConfig } from "../env/ground.ts";

const ns = `evict-conflict-${Math.random().toString(36).slice(2, 7)}`;
const core = kubeConfig().makeApiClient(CoreV1Api);
const kube = createKubeClient({ kubeconfigPath: ground().kubeconfig, qps: 50, burst: 50 });

const pod = (name: string): V1Pod => ({
  metadata: { name },
  // Never scheduled (no node matches), so deleting it is immediate.
  spec: {
    nodeSelector: { "nthd-test": "no-such-node" },
    containers: [{ name: "c", image: "registry.invalid/c:1" }],
  },
});

async function recreate(name: string): Promise<{ oldUid: string; newUid: string }> {
  const first = await core.createNamespacedPod({ namespace: ns, body: pod(name) });
  await core.deleteNamespacedPod({ namespace: ns, name, gracePeriodSeconds: 0 });
  for (let i = 0; i < 100; i++) {
    try {
      const second = await core.createNamespacedPod({ namespace: ns, body: pod(name) });
      return { oldUid: first.metadata?.uid ?? "", newUid: second.metadata?.uid ?? "" };
    } catch {
      await new Promise((r) => setTimeout(r, 100)); // the old one is still being removed
    }
  }
  throw new Error(`could not recreate pod ${name}`);
}

before(async () => {
  await core.createNamespace({ body: { metadata: { name: ns } } });
});
after(async () => {
  await core.deleteNamespace({ name: ns }).catch(() => {});
  await kube.close();
});

describe("eviction conflicts on the real API server", () => {
  test("a stale uid precondition answers 409; nthd re-reads the pod and counts it gone", async () => {
    const { oldUid, newUid } = await recreate("web-0");
    assert.notEqual(oldUid, newUid);

    // nthd's own client, watched: what the API server answered each eviction.
    const answers: (number | undefined)[] = [];
    const watched: KubeClient = {
      ...kube,
      evictPod: (ns, name, o) =>
        kube.evictPod(ns, name, o).then(
          () => void answers.push(201),
          (err: unknown) => {
            answers.push(classifyKubeError(err).status);
            throw err;
          },
        ),
    };
    const deadline = new Date(Date.now() + 60_000);
    const result = await evictPod({
      kube: watched,
      pod: { namespace: ns, name: "web-0", uid: oldUid },
      podGraceSeconds: 1,
      settings: { podTerminationGracePeriodSeconds: -1, deadlineSafetyMarginSeconds: 0 },
      deadline: () => deadline,
      clock: () => new Date(),
      signal: new AbortController().signal,
    });
    // The API server's own answer to the stale precondition (after its
    // internal retries, about 10 s), then nthd's verdict from the re-read.
    assert.deepEqual(answers, [409]);
    assert.deepEqual(result, { status: "gone" });
    const still = await core.readNamespacedPod({ namespace: ns, name: "web-0" });
    assert.equal(still.metadata?.uid, newUid, "the new incarnation is left alone");
    assert.equal(still.metadata?.deletionTimestamp, undefined);
  });
});
