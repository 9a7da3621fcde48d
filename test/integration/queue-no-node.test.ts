// Scenario 7: an Auto Scaling terminate hook for an instance that never
// joined the cluster (no node has its provider ID). Without nthd the group
// would wait out the hook's timeout; nthd completes it with CONTINUE after a
// short wait for the node to register, and deletes the message.
import assert from "node:assert/strict";
import { test } from "node:test";
import { ground } from "../env/ground.ts";
import { lifecycleState } from "../env/moto/start.ts";
import { QueueScenario, tallyLine } from "../env/queue-scenario.ts";
import { eventually } from "../support/eventually.ts";

test("scenario 7: a terminate hook for an instance with no node is completed with CONTINUE within seconds", async () => {
  const s = await QueueScenario.create({ name: "no-node", maxReceiveCount: 2, asgInstances: 1 });
  try {
    const { instanceId } = await s.asgInstance(false);
    s.startNthd({ kubeconfig: ground().kubeconfig, NTHD_NODE_REGISTRATION_WAIT_SECONDS: "3" });
    await s.nthdStarted();
    const sentAt = Date.now();
    await s.sendTerminate(instanceId, undefined);
    const completed = await s.allHandled(30_000);
    const tookMs = Date.now() - sentAt;
    if (completed) {
      await eventually("the message deleted", async () =>
        (await s.depth(s.queueUrl)) === 0 ? true : undefined,
      );
    }
    await s.stopNthd();
    const t = await s.tally();
    const took = completed
      ? `completed in ${(tookMs / 1000).toFixed(1)} s`
      : "not completed in 30 s";
    process.stdout.write(`${tallyLine(t)}  (7: terminate hook, no node: ${took})\n`);
    assert.ok(completed, "the lifecycle action completed");
    const { actions } = await lifecycleState(ground().motoUrl);
    const action = actions.find((a) => a.InstanceId === instanceId);
    assert.equal(action?.Result, "CONTINUE");
    assert.ok(tookMs < 20_000, `completed ${tookMs} ms after the message was sent`);
    assert.equal(t.doubled, 0);
    assert.equal(t.dlq, 0);
  } finally {
    await s.close();
  }
});
