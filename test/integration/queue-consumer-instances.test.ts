// How the queue consumer finds the node and the managed tag of a notice's
// instance, against moto's EC2: nodes named by private DNS name, and the EC2
// facts of the cluster's instances primed ahead of any notice, so a notice
// needs no DescribeInstances of its own.
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { createInstanceDirectory } from "../../src/sources/queue/instances.ts";
import {
  createQueue,
  MANAGED_TAG,
  motoForFile,
  queueDepth,
  runInstance,
  sendMessage,
} from "../env/moto/aws.ts";
import { countingEc2, startConsumer } from "../env/queue-consumer.ts";
import { eventually } from "../support/eventually.ts";
import { FIXTURE_INSTANCE, readAwsEvent } from "../support/fixtures.ts";
import { runSuffix } from "../support/ids.ts";
import { NodeTable } from "../support/node-table.ts";
import { recordingHandler } from "../support/notices.ts";

const suffix = runSuffix();
const moto = motoForFile();

describe("queue consumer on moto: instances and their nodes", () => {
  test("a node named by its private DNS name is found through DescribeInstances", async () => {
    const { aws } = moto;
    const { url } = await createQueue(aws.sqs, `nthd-dns-${suffix}`);
    const inst = await runInstance(aws.ec2, { [MANAGED_TAG]: "" });
    assert.ok(inst.dns, "moto gives the instance a private DNS name");
    const nodes = new NodeTable();
    nodes.add(undefined, inst.dns); // no provider ID index entry
    const engine = recordingHandler();
    await sendMessage(
      aws.sqs,
      url,
      readAwsEvent("sqs/eventbridge/ec2-state-change.stopping.derived.json", {
        "i-abcd1111": inst.id,
      }),
    );
    const consumer = startConsumer(aws, url, engine, nodes);
    try {
      await eventually("message deleted", async () =>
        (await queueDepth(aws.sqs, url)) === 0 ? true : undefined,
      );
      assert.deepEqual(
        engine.calls.map((c) => [c.notice.kind, c.nodeName]),
        [["instance-state-change", inst.dns]],
      );
    } finally {
      await consumer.stop();
    }
  });

  test("the cluster's instances are primed: a notice for one needs no DescribeInstances of its own", async () => {
    const { aws } = moto;
    const managed = await runInstance(aws.ec2, { [MANAGED_TAG]: "" });
    const unmanaged = await runInstance(aws.ec2, { team: "x" });
    const { ec2, describeCalls } = countingEc2(aws);
    const directory = createInstanceDirectory({ ec2, tagKeys: [MANAGED_TAG] });
    await directory.prime([managed.id, unmanaged.id], 60_000);
    assert.deepEqual(describeCalls, [[managed.id, unmanaged.id]], "one batched call for both");
    await directory.prime([managed.id, unmanaged.id], 60_000);
    assert.equal(describeCalls.length, 1, "fresh answers are not fetched again");
    assert.ok((await directory.lookup(managed.id))?.tags.has(MANAGED_TAG));
    // Only the managed tag is kept: the other instance's "team" tag is dropped on arrival.
    assert.deepEqual([...((await directory.lookup(unmanaged.id))?.tags ?? ["missing"])], []);
    assert.equal(describeCalls.length, 1, "lookups are answered from the primed cache");

    const { url } = await createQueue(aws.sqs, `nthd-primed-${suffix}`);
    const nodes = new NodeTable();
    nodes.add(managed.id, "node-primed");
    nodes.add(unmanaged.id, "node-primed-unmanaged");
    await sendMessage(
      aws.sqs,
      url,
      readAwsEvent("sqs/eventbridge/spot-interruption-warning.terminate.derived.json", {
        [FIXTURE_INSTANCE]: managed.id,
      }),
    );
    const engine = recordingHandler();
    const consumer = startConsumer(aws, url, engine, nodes, {}, { ec2, instances: directory });
    try {
      await eventually("message deleted", async () =>
        (await queueDepth(aws.sqs, url)) === 0 ? true : undefined,
      );
      assert.deepEqual(
        engine.calls.map((c) => c.nodeName),
        ["node-primed"],
      );
      assert.equal(describeCalls.length, 1, "the notice's tag check used the primed answer");
    } finally {
      await consumer.stop();
    }
  });

  test("the consumer primes the instances the node informer knows", async () => {
    const { aws } = moto;
    const { url } = await createQueue(aws.sqs, `nthd-primer-${suffix}`);
    const a = await runInstance(aws.ec2, { [MANAGED_TAG]: "" });
    const b = await runInstance(aws.ec2, { [MANAGED_TAG]: "" });
    const { ec2, describeCalls } = countingEc2(aws);
    const consumer = startConsumer(
      aws,
      url,
      recordingHandler(),
      new NodeTable(),
      {},
      { ec2, clusterInstanceIds: () => [a.id, b.id] },
    );
    try {
      const call = await eventually("a priming DescribeInstances", async () => describeCalls[0]);
      assert.deepEqual([...call].sort(), [a.id, b.id].sort());
    } finally {
      await consumer.stop();
    }
  });
});
