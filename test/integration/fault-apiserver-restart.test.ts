// Scenario 5: kube-apiserver killed and started again on the same port in
// the middle of a drain. The drain goes on once the API server is back, no
// pod is evicted twice, and the terminate hook is completed once. nthd talks
// to a kube-apiserver of this test's own (on the ground's etcd).
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { setTimeout as sleep } from "node:timers/promises";
import { PolicyV1Api } from "@kubernetes/client-node";
import { type PrivateApiServer, startPrivateApiServer } from "../env/apiserver.ts";
import { kubeConfig } from "../env/ground.ts";
import { QueueScenario, tallyLine } from "../env/queue-scenario.ts";
import { eventually } from "../support/eventually.ts";

let api: PrivateApiServer;

before(async () => {
  api = await startPrivateApiServer();
});

after(async () => {
  await api?.close();
});

test("scenario 5: API server restarted mid-drain: the drain goes on, no pod evicted twice", async () => {
  const s = await QueueScenario.create({ name: "restart", maxReceiveCount: 2, asgInstances: 1 });
  try {
    const pool = { "nthd-test/pool": s.namespace };
    const target = await s.asgInstance(false);
    const nodeName = `${s.namespace}-drained`;
    await s.node(nodeName, target.instanceId, pool);
    // All six start on the drained node (the only one of the pool yet);
    // their replacements go to a spare node added now. The budget lets one
    // pod go at a time, so the drain takes a few rounds and the restart
    // lands in its middle.
    await s.workload(nodeName, 6, pool);
    await s.node(`${s.namespace}-spare`, "i-00000000000000000", pool);
    await kubeConfig()
      .makeApiClient(PolicyV1Api)
      .createNamespacedPodDisruptionBudget({
        namespace: s.namespace,
        body: {
          metadata: { name: "one-at-a-time" },
          spec: {
            maxUnavailable: 1,
            selector: { matchExpressions: [{ key: "app", operator: "Exists" }] },
          },
        },
      });

    s.startNthd({ kubeconfig: api.kubeconfig, NTHD_KUBE_API_TIMEOUT_SECONDS: "5" });
    await s.nthdStarted();
    await s.sendTerminate(target.instanceId, nodeName);
    await eventually("the first pod evicted", async () =>
      s.logged("pod evicted") > 0 ? true : undefined,
    );
    await api.kill();
    await sleep(10_000);
    await api.start();
    await eventually(
      "the node drained",
      async () => ((await s.podsOn(nodeName)) === 0 ? true : undefined),
      120_000,
    );
    await s.allHandled(60_000);
    await s.stopNthd();
    const t = await s.tally();
    process.stdout.write(
      `${tallyLine(t)}  (5: kube-apiserver killed mid-drain, restarted on its port after 10 s)\n`,
    );
    const evictions = s.logged("pod evicted");
    try {
      assert.ok(evictions >= 6, `every pod evicted (${evictions} evictions logged)`);
      assert.equal(t.doubled, 0, "no pod evicted twice, the hook completed once");
      assert.equal(t.lost, 0);
      assert.equal(t.dlq, 0);
      assert.equal(t.restarts, 0);
    } catch (err) {
      process.stderr.write(s.output().split("\n").slice(-80).join("\n"));
      throw err;
    }
  } catch (err) {
    process.stderr.write(s.output().split("\n").slice(-60).join("\n"));
    throw err;
  } finally {
    await s.close();
  }
});
