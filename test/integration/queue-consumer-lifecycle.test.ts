// Auto Scaling lifecycle actions through the queue consumer, against moto
// (with the lifecycle calls test/env/moto/launcher.py adds): a terminate
// action is kept alive by heartbeats while its drain runs and completed after
// it, never after a failed drain; a launch action is completed once the
// instance's node is Ready. The drain engine is a recorder whose drains end
// when the test says and which, like the engine on the replica that owns a
// node's work, hands the terminate action to the source's duty handler.
import assert from "node:assert/strict";
import { before, describe, test } from "node:test";
import { DescribeInstancesCommand } from "@aws-sdk/client-ec2";
import { ReceiveMessageCommand } from "@aws-sdk/client-sqs";
import {
  createManagedGroup,
  createQueue,
  MANAGED_TAG,
  motoForFile,
  queueDepth,
  sendMessage,
} from "../env/moto/aws.ts";
import { lifecycleActionOf, lifecycleState, openLifecycleAction } from "../env/moto/start.ts";
import { startConsumer } from "../env/queue-consumer.ts";
import { eventually, until } from "../support/eventually.ts";
import { FIXTURE_INSTANCE, readAwsEvent } from "../support/fixtures.ts";
import { runSuffix } from "../support/ids.ts";
import { NodeTable } from "../support/node-table.ts";
import { recordingHandler } from "../support/notices.ts";

const suffix = runSuffix();
const moto = motoForFile();

describe("Auto Scaling lifecycle actions on moto", () => {
  const group = `nthd-asg-${suffix}`;
  const hook = "nthd-terminate";
  const launchHook = "nthd-launch";
  let instances: string[] = [];

  before(async () => {
    const { aws } = moto;
    instances = await createManagedGroup(aws.autoscaling, group, 4, [
      // A short heartbeat timeout so a drain of a few seconds outlives it.
      {
        name: hook,
        transition: "autoscaling:EC2_INSTANCE_TERMINATING",
        heartbeatTimeout: 2,
        defaultResult: "CONTINUE",
      },
      {
        name: launchHook,
        transition: "autoscaling:EC2_INSTANCE_LAUNCHING",
        heartbeatTimeout: 30,
        defaultResult: "ABANDON",
      },
    ]);
    assert.equal(instances.length, 4);
    const described = await aws.ec2.send(new DescribeInstancesCommand({ InstanceIds: instances }));
    const tagged = described.Reservations?.flatMap((r) => r.Instances ?? []).filter((i) =>
      i.Tags?.some((t) => t.Key === MANAGED_TAG),
    );
    assert.equal(tagged?.length, 4, "the group's tag propagates to its instances");
  });

  /** The Auto Scaling message for an open action of `hook`, naming the test's own resources. */
  function lifecycleEvent(fixture: string, instanceId: string, token: string, hookName: string) {
    return readAwsEvent(`sqs/eventbridge/${fixture}`, {
      [FIXTURE_INSTANCE]: instanceId,
      "87654321-4321-4321-4321-210987654321": token,
      '"my-asg"': JSON.stringify(group),
      '"my-lifecycle-hook"': JSON.stringify(hookName),
    });
  }

  /**
   * Instance `index` of the group terminating: its action opened, its node in
   * the table, a drain that runs until the test ends it, and the message sent.
   */
  async function terminating(index: number, queueName: string) {
    const { aws } = moto;
    const instanceId = instances[index] as string;
    const { url } = await createQueue(aws.sqs, `${queueName}-${suffix}`);
    const action = await openLifecycleAction(aws.url, {
      AutoScalingGroupName: group,
      LifecycleHookName: hook,
      InstanceId: instanceId,
    });
    const nodes = new NodeTable();
    nodes.add(instanceId, `node-asg-${index}`);
    const engine = recordingHandler();
    const endDrain = engine.hold(instanceId);
    await sendMessage(
      aws.sqs,
      url,
      lifecycleEvent(
        "asg-terminate-lifecycle-action.doc-2023.json",
        instanceId,
        action.LifecycleActionToken,
        hook,
      ),
    );
    const token = action.LifecycleActionToken;
    return { instanceId, url, token, nodes, engine, endDrain };
  }

  test("terminate: heartbeats while the drain runs, CONTINUE after it, then the message is deleted", async () => {
    const { aws } = moto;
    const { instanceId, url, token, nodes, engine, endDrain } = await terminating(0, "nthd-lc");
    const consumer = startConsumer(aws, url, engine, nodes);
    try {
      await eventually("the engine asked to drain", async () => engine.for(instanceId)[0]);
      // The hook times out after 2 s: heartbeats must keep it alive while the drain runs.
      await eventually("two heartbeats", async () => {
        const a = await lifecycleActionOf(aws.url, token);
        return a !== undefined && a.Heartbeats >= 2 ? true : undefined;
      });
      let state = await lifecycleState(aws.url);
      assert.equal(
        state.calls.some(
          (c) => c.Operation === "CompleteLifecycleAction" && c.InstanceId === instanceId,
        ),
        false,
        "never completed before the drain is over",
      );
      assert.equal(await queueDepth(aws.sqs, url), 1, "the message stays while the drain runs");
      assert.equal(
        engine.for(instanceId).length,
        1,
        "visibility extended: no redelivery mid-drain",
      );

      endDrain("drained");
      await eventually("message deleted", async () =>
        (await queueDepth(aws.sqs, url)) === 0 ? true : undefined,
      );
      state = await lifecycleState(aws.url);
      const done = state.actions.find((x) => x.LifecycleActionToken === token);
      assert.equal(done?.State, "Completed");
      assert.equal(done?.Result, "CONTINUE");
      const completes = state.calls.filter(
        (c) => c.Operation === "CompleteLifecycleAction" && c.LifecycleActionToken === token,
      );
      assert.deepEqual(
        completes.map((c) => [c.Outcome, c.AutoScalingGroupName, c.LifecycleHookName]),
        [["ok", group, hook]],
      );
    } finally {
      await consumer.stop();
    }
  });

  test("terminate: a failed drain leaves the action open and the message for redelivery", async () => {
    const { aws } = moto;
    const { instanceId, url, token, nodes, engine, endDrain } = await terminating(1, "nthd-lcfail");
    const consumer = startConsumer(aws, url, engine, nodes);
    try {
      await eventually("the engine asked to drain", async () => engine.for(instanceId)[0]);
      endDrain("failed");
      await eventually("redelivered and asked again", async () =>
        engine.for(instanceId).length >= 2 ? true : undefined,
      );
      const a = await lifecycleActionOf(aws.url, token);
      assert.equal(a?.State, "Pending", "not completed after a failed drain");
      assert.equal(await queueDepth(aws.sqs, url), 1);
    } finally {
      await consumer.stop();
    }
  });

  test("shutdown mid-drain: the consumer stops and the message is visible again at once", async () => {
    const { aws } = moto;
    const { instanceId, url, token, nodes, engine } = await terminating(2, "nthd-lcstop");
    const consumer = startConsumer(aws, url, engine, nodes, { sqsMsgVisibilityTimeoutSeconds: 60 });
    await eventually("the engine asked to drain", async () => engine.for(instanceId)[0]);
    await consumer.stop();
    const again = await aws.sqs.send(
      new ReceiveMessageCommand({ QueueUrl: url, WaitTimeSeconds: 2 }),
    );
    assert.equal(again.Messages?.length, 1, "released, not held for its 60 s visibility timeout");
    const a = await lifecycleActionOf(aws.url, token);
    assert.equal(a?.State, "Pending");
  });

  test("launch: completed once the instance's node is Ready, when configured", async () => {
    const { aws } = moto;
    const instanceId = instances[3] as string;
    const { url } = await createQueue(aws.sqs, `nthd-launch-${suffix}`);
    const action = await openLifecycleAction(aws.url, {
      AutoScalingGroupName: group,
      LifecycleHookName: launchHook,
      InstanceId: instanceId,
    });
    const token = action.LifecycleActionToken;
    const nodes = new NodeTable();
    const engine = recordingHandler();
    await sendMessage(
      aws.sqs,
      url,
      lifecycleEvent("asg-launch-lifecycle-action.doc-2023.json", instanceId, token, launchHook),
    );
    const consumer = startConsumer(aws, url, engine, nodes, {
      completeLaunchLifecycleAction: true,
    });
    try {
      nodes.add(instanceId, "node-launched", false); // joined, not Ready yet
      // Not a fixed wait: the consumer has looked at the node twice (it polls
      // every 2 s) and found it not Ready, so it had its chance to complete.
      await until(
        "the consumer checking the node's readiness twice",
        () => (nodes.readyChecks.get("node-launched") ?? 0) >= 2,
        30_000,
        100,
      );
      let a = await lifecycleActionOf(aws.url, token);
      assert.equal(a?.State, "Pending", "not completed while the node is not Ready");
      nodes.ready.add("node-launched");
      await eventually("message deleted", async () =>
        (await queueDepth(aws.sqs, url)) === 0 ? true : undefined,
      );
      a = await lifecycleActionOf(aws.url, token);
      assert.equal(a?.State, "Completed");
      assert.equal(a?.Result, "CONTINUE");
      assert.equal(engine.calls.length, 0, "a launch never drains");
    } finally {
      await consumer.stop();
    }
  });
});
