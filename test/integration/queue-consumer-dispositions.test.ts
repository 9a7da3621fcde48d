// What the queue consumer does with each message, against the real SQS, EC2
// and EventBridge peer (moto): interruptions for this cluster's managed nodes
// reach the engine and are deleted; unmanaged, ignored, foreign and malformed
// messages are sorted out. The Kubernetes side is left out: the drain engine
// is a recorder of what the consumer asked it (queue-e2e.test.ts runs the real
// engine on the kube ground), and the node index a small table.
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { ReceiveMessageCommand } from "@aws-sdk/client-sqs";
import {
  createQueue,
  MANAGED_TAG,
  motoForFile,
  putSpotWarning,
  queueArn,
  queueDepth,
  routeSpotWarnings,
  runInstance,
  sendMessage,
} from "../env/moto/aws.ts";
import { startConsumer } from "../env/queue-consumer.ts";
import { eventually } from "../support/eventually.ts";
import { FIXTURE_INSTANCE, readAwsEvent } from "../support/fixtures.ts";
import { runSuffix } from "../support/ids.ts";
import { NodeTable } from "../support/node-table.ts";
import { recordingHandler } from "../support/notices.ts";

const suffix = runSuffix();
const moto = motoForFile();

const SPOT_WARNING = "sqs/eventbridge/spot-interruption-warning.terminate.derived.json";

describe("queue consumer on moto: what becomes of each message", () => {
  test("interruptions reach the engine for the right node and are deleted; others are sorted out", async () => {
    const { aws } = moto;
    const { url } = await createQueue(aws.sqs, `nthd-sort-${suffix}`);
    const managed = await runInstance(aws.ec2, { [MANAGED_TAG]: "" });
    const unmanaged = await runInstance(aws.ec2, { team: "x" });
    const foreign = await runInstance(aws.ec2, { [MANAGED_TAG]: "" });
    const engine = recordingHandler();
    const nodes = new NodeTable();
    nodes.add(managed.id, "node-managed");
    nodes.add(unmanaged.id, "node-unmanaged");
    const send = (body: string) => sendMessage(aws.sqs, url, body);

    await send(readAwsEvent(SPOT_WARNING, { [FIXTURE_INSTANCE]: managed.id }));
    await send(
      readAwsEvent(
        "sqs/sns-wrapped/sns-wrapped.spot-interruption-warning.terminate.composed.json",
        { [FIXTURE_INSTANCE]: managed.id },
      ),
    );
    await send(readAwsEvent(SPOT_WARNING, { [FIXTURE_INSTANCE]: unmanaged.id }));
    await send(
      readAwsEvent("sqs/eventbridge/ec2-state-change.pending.doc.json", {
        [FIXTURE_INSTANCE]: managed.id,
      }),
    );
    await send(readAwsEvent("sqs/ignore/spot-fleet-instance-change.doc.json"));
    await send(
      readAwsEvent("sqs/eventbridge/rebalance-recommendation.derived.json", {
        [FIXTURE_INSTANCE]: foreign.id,
      }),
    );

    const consumer = startConsumer(aws, url, engine, nodes);
    try {
      // Everything but the foreign instance's message goes away.
      await eventually("five messages deleted", async () =>
        (await queueDepth(aws.sqs, url)) <= 1 ? true : undefined,
      );
      const calls = engine.for(managed.id);
      assert.equal(calls.length, 2, "direct and SNS-wrapped warnings both reach the engine");
      for (const call of calls) {
        assert.equal(call.nodeName, "node-managed");
        assert.equal(call.notice.kind, "spot-interruption");
      }
      assert.equal(engine.for(unmanaged.id).length, 0, "no managed tag: not acted on");
      assert.equal(engine.for(foreign.id).length, 0, "no node in this cluster");
      assert.equal(engine.calls.length, 2, "ignored kinds never reach the engine");
      assert.equal(
        await queueDepth(aws.sqs, url),
        1,
        "the foreign instance's message stays for its own cluster",
      );
    } finally {
      await consumer.stop();
    }
  });

  test("a foreign instance's message is deleted when delete-sqs-msg-if-node-not-found is on", async () => {
    const { aws } = moto;
    const { url } = await createQueue(aws.sqs, `nthd-foreign-${suffix}`);
    const foreign = await runInstance(aws.ec2, { [MANAGED_TAG]: "" });
    await sendMessage(aws.sqs, url, readAwsEvent(SPOT_WARNING, { [FIXTURE_INSTANCE]: foreign.id }));
    const engine = recordingHandler();
    const consumer = startConsumer(aws, url, engine, new NodeTable(), {
      deleteSqsMsgIfNodeNotFound: true,
    });
    try {
      await eventually("message deleted", async () =>
        (await queueDepth(aws.sqs, url)) === 0 ? true : undefined,
      );
      assert.equal(engine.calls.length, 0);
    } finally {
      await consumer.stop();
    }
  });

  test("a malformed message is never deleted, ends in the dead-letter queue, and does not block the next", async () => {
    const { aws } = moto;
    const { url, dlqUrl } = await createQueue(aws.sqs, `nthd-bad-${suffix}`, { dlq: true });
    const inst = await runInstance(aws.ec2, { [MANAGED_TAG]: "" });
    const nodes = new NodeTable();
    nodes.add(inst.id, "node-after-bad");
    const engine = recordingHandler();
    await sendMessage(aws.sqs, url, '{"detail-type": 42');
    await sendMessage(aws.sqs, url, readAwsEvent(SPOT_WARNING, { [FIXTURE_INSTANCE]: inst.id }));
    const consumer = startConsumer(aws, url, engine, nodes, { sqsMsgVisibilityTimeoutSeconds: 1 });
    try {
      await eventually("the good message handled", async () =>
        engine.for(inst.id).length === 1 ? true : undefined,
      );
      await eventually(
        "the malformed message moved to the dead-letter queue",
        async () =>
          (await queueDepth(aws.sqs, url)) === 0 &&
          (await queueDepth(aws.sqs, dlqUrl as string)) === 1
            ? true
            : undefined,
        40_000,
      );
    } finally {
      await consumer.stop();
    }
    const dead = await aws.sqs.send(
      new ReceiveMessageCommand({ QueueUrl: dlqUrl, WaitTimeSeconds: 1 }),
    );
    assert.equal(dead.Messages?.[0]?.Body, '{"detail-type": 42');
  });

  test("EventBridge: an event put on the bus reaches nthd through a rule with an SQS target", async () => {
    const { aws } = moto;
    const { url } = await createQueue(aws.sqs, `nthd-eb-${suffix}`);
    const bus = `nthd-consumer-bus-${suffix}`;
    await routeSpotWarnings(aws.eventbridge, {
      bus,
      rule: `nthd-spot-${suffix}`,
      queueArn: await queueArn(aws.sqs, url),
    });
    const inst = await runInstance(aws.ec2, { [MANAGED_TAG]: "" });
    const nodes = new NodeTable();
    nodes.add(inst.id, "node-eb");
    const engine = recordingHandler();
    const consumer = startConsumer(aws, url, engine, nodes);
    try {
      const put = await putSpotWarning(aws.eventbridge, bus, inst.id);
      assert.equal(put.FailedEntryCount ?? 0, 0);
      const call = await eventually(
        "the engine asked to drain",
        async () => engine.for(inst.id)[0],
      );
      assert.equal(call.nodeName, "node-eb");
      assert.equal(call.notice.kind, "spot-interruption");
      assert.ok(call.notice.deadline, "a Spot warning carries its deadline");
      await eventually("message deleted", async () =>
        (await queueDepth(aws.sqs, url)) === 0 ? true : undefined,
      );
    } finally {
      await consumer.stop();
    }
  });
});
