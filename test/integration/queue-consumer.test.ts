// The queue consumer against the real SQS, EC2, Auto Scaling and EventBridge
// peer (moto, with the lifecycle calls test/env/moto/launcher.py adds).
// The Kubernetes side is left out here: the drain engine is replaced by a
// recorder of what the consumer asked it (queue-e2e.test.ts runs the real
// engine on the kube ground), and the node index by a small table.
import assert from "node:assert/strict";
import { existsSync, readFileSync } from "node:fs";
import { after, before, describe, test } from "node:test";
import {
  CreateAutoScalingGroupCommand,
  CreateLaunchConfigurationCommand,
  DescribeAutoScalingGroupsCommand,
  PutLifecycleHookCommand,
} from "@aws-sdk/client-auto-scaling";
import { DescribeInstancesCommand, RunInstancesCommand } from "@aws-sdk/client-ec2";
import {
  CreateEventBusCommand,
  EventBridgeClient,
  PutEventsCommand,
  PutRuleCommand,
  PutTargetsCommand,
} from "@aws-sdk/client-eventbridge";
import {
  CreateQueueCommand,
  GetQueueAttributesCommand,
  ReceiveMessageCommand,
  SendMessageCommand,
} from "@aws-sdk/client-sqs";
import { type AwsClients, createAwsClients } from "../../src/aws/clients.ts";
import { noticeOutcomeOf } from "../../src/drain/outcome.ts";
import type { DrainResult } from "../../src/drain/report.ts";
import type { Notice } from "../../src/notice.ts";
import { type QueueSourceOptions, startQueueSource } from "../../src/sources/queue/consumer.ts";
import { createInstanceDirectory } from "../../src/sources/queue/instances.ts";
import type { NodeLookup } from "../../src/sources/queue/resolve.ts";
import { stateFile } from "../env/ground-up.ts";
import {
  lifecycleState,
  type MotoServer,
  openLifecycleAction,
  startMoto,
} from "../env/moto/start.ts";
import { awsEventPath } from "../support/fixtures.ts";

const FIXTURES = awsEventPath("sqs");
const FIXTURE_INSTANCE = "i-1234567890abcdef0";
const MANAGED_TAG = "aws-node-termination-handler/managed";
const region = "us-east-1";
const credentials = { accessKeyId: "test", secretAccessKey: "test" };
const suffix = Math.random().toString(36).slice(2, 8);

let moto: MotoServer | undefined;
let motoUrl = "";
let aws: AwsClients;

function fixture(path: string, replace: Record<string, string>): string {
  let body = readFileSync(`${FIXTURES}/${path}`, "utf8");
  for (const [from, to] of Object.entries(replace)) body = body.replaceAll(from, to);
  return body;
}

async function eventually<T>(
  what: string,
  probe: () => Promise<T | undefined>,
  timeoutMs = 30_000,
): Promise<T> {
  const until = Date.now() + timeoutMs;
  while (Date.now() < until) {
    const value = await probe();
    if (value !== undefined) return value;
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`timed out waiting for ${what}`);
}

/** Messages in the queue, visible or in flight. */
async function depth(queueUrl: string): Promise<number> {
  const out = await aws.sqs.send(
    new GetQueueAttributesCommand({
      QueueUrl: queueUrl,
      AttributeNames: ["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"],
    }),
  );
  const a = out.Attributes ?? {};
  return (
    Number(a.ApproximateNumberOfMessages ?? 0) +
    Number(a.ApproximateNumberOfMessagesNotVisible ?? 0)
  );
}

async function createQueue(name: string, opts: { dlq?: boolean } = {}) {
  let dlqUrl: string | undefined;
  const attributes: Record<string, string> = {};
  if (opts.dlq) {
    const dlq = await aws.sqs.send(new CreateQueueCommand({ QueueName: `${name}-dlq` }));
    dlqUrl = dlq.QueueUrl as string;
    const arn = await aws.sqs.send(
      new GetQueueAttributesCommand({ QueueUrl: dlqUrl, AttributeNames: ["QueueArn"] }),
    );
    attributes.RedrivePolicy = JSON.stringify({
      deadLetterTargetArn: arn.Attributes?.QueueArn,
      maxReceiveCount: 2,
    });
  }
  const q = await aws.sqs.send(new CreateQueueCommand({ QueueName: name, Attributes: attributes }));
  return { url: q.QueueUrl as string, dlqUrl };
}

async function runInstance(tags: Record<string, string>): Promise<{ id: string; dns: string }> {
  const out = await aws.ec2.send(
    new RunInstancesCommand({
      ImageId: "ami-12c6146b",
      MinCount: 1,
      MaxCount: 1,
      InstanceType: "t3.micro",
      TagSpecifications: [
        {
          ResourceType: "instance",
          Tags: Object.entries(tags).map(([Key, Value]) => ({ Key, Value })),
        },
      ],
    }),
  );
  const inst = out.Instances?.[0];
  return { id: inst?.InstanceId as string, dns: inst?.PrivateDnsName as string };
}

/** Stands in for the drain engine: records each request; drains end when the test says. */
class RecordingEngine {
  readonly calls: { notice: Notice; nodeName: string }[] = [];
  readonly #held = new Map<string, Promise<DrainResult>>();

  /** Drains of this instance run until the returned function is called with their result. */
  hold(instanceId: string): (result: DrainResult) => void {
    let end!: (result: DrainResult) => void;
    this.#held.set(instanceId, new Promise<DrainResult>((resolve) => (end = resolve)));
    return end;
  }

  handle(notice: Notice, nodeName: string) {
    this.calls.push({ notice, nodeName });
    const result = this.#held.get(notice.instanceId) ?? Promise.resolve<DrainResult>("drained");
    // The engine's own mapping from its results to what a source is told.
    const done = result.then((r) => noticeOutcomeOf({ result: r, message: r }));
    return { recorded: Promise.resolve(), done };
  }

  for(instanceId: string) {
    return this.calls.filter((c) => c.notice.instanceId === instanceId);
  }
}

/** The cluster's nodes as the informer would index them. */
class NodeTable implements NodeLookup {
  readonly byInstance = new Map<string, string>();
  readonly names = new Set<string>();
  readonly ready = new Set<string>();
  nodeForInstance(id: string) {
    return this.byInstance.get(id);
  }
  hasNode(name: string) {
    return this.names.has(name);
  }
  isReady(name: string) {
    return this.ready.has(name);
  }
  add(instanceId: string | undefined, name: string, ready = true) {
    if (instanceId) this.byInstance.set(instanceId, name);
    this.names.add(name);
    if (ready) this.ready.add(name);
  }
}

function startConsumer(
  queueUrl: string,
  engine: RecordingEngine,
  nodes: NodeTable,
  overrides: Record<string, unknown> = {},
  sourceOptions: Partial<QueueSourceOptions> = {},
) {
  const controller = new AbortController();
  const config = {
    queueUrl,
    workers: 10,
    sqsMsgVisibilityTimeoutSeconds: 2,
    dryRun: false,
    checkTagBeforeDraining: true,
    managedTag: MANAGED_TAG,
    deleteSqsMsgIfNodeNotFound: false,
    completeLifecycleActionDelaySeconds: -1,
    completeLaunchLifecycleAction: false,
    heartbeatIntervalSeconds: -1,
    heartbeatUntilSeconds: -1,
    ...overrides,
  };
  const running = startQueueSource({
    config,
    sqs: aws.sqs,
    ec2: aws.ec2,
    autoscaling: aws.autoscaling,
    handle: (notice, nodeName) => engine.handle(notice, nodeName),
    resolver: nodes,
    signal: controller.signal,
    ...sourceOptions,
  });
  return {
    stop: async () => {
      controller.abort();
      await running;
    },
  };
}

/** The real EC2 peer, with the instance ids of each DescribeInstances call recorded. */
function countingEc2() {
  const describeCalls: string[][] = [];
  const ec2 = {
    send: ((command: { input: unknown }, options?: unknown) => {
      if (command instanceof DescribeInstancesCommand) {
        describeCalls.push(command.input.Filters?.[0]?.Values ?? []);
      }
      return aws.ec2.send(command as DescribeInstancesCommand, options as never);
    }) as typeof aws.ec2.send,
  };
  return { ec2, describeCalls };
}

/** The shared ground's moto when it runs, else one of our own. */
async function motoEndpoint(): Promise<string> {
  if (existsSync(stateFile())) {
    const url = (JSON.parse(readFileSync(stateFile(), "utf8")) as { motoUrl?: string }).motoUrl;
    if (
      url &&
      (await fetch(`${url}/moto-api/lifecycle-actions`).then(
        (r) => r.ok,
        () => false,
      ))
    ) {
      return url;
    }
  }
  moto = await startMoto();
  return moto.url;
}

before(async () => {
  motoUrl = await motoEndpoint();
  aws = createAwsClients(
    { queueUrl: `${motoUrl}/123456789012/unused`, awsRegion: region, awsEndpoint: motoUrl },
    { credentials, maxAttempts: 2 },
  );
});

after(async () => {
  await moto?.stop();
});

describe("queue consumer on moto", () => {
  test("interruptions reach the engine for the right node and are deleted; others are sorted out", async () => {
    const { url } = await createQueue(`nthd-sort-${suffix}`);
    const managed = await runInstance({ [MANAGED_TAG]: "" });
    const unmanaged = await runInstance({ team: "x" });
    const foreign = await runInstance({ [MANAGED_TAG]: "" });
    const engine = new RecordingEngine();
    const nodes = new NodeTable();
    nodes.add(managed.id, "node-managed");
    nodes.add(unmanaged.id, "node-unmanaged");
    const send = (body: string) =>
      aws.sqs.send(new SendMessageCommand({ QueueUrl: url, MessageBody: body }));

    await send(
      fixture("eventbridge/spot-interruption-warning.terminate.derived.json", {
        [FIXTURE_INSTANCE]: managed.id,
      }),
    );
    await send(
      fixture("sns-wrapped/sns-wrapped.spot-interruption-warning.terminate.composed.json", {
        [FIXTURE_INSTANCE]: managed.id,
      }),
    );
    await send(
      fixture("eventbridge/spot-interruption-warning.terminate.derived.json", {
        [FIXTURE_INSTANCE]: unmanaged.id,
      }),
    );
    await send(
      fixture("eventbridge/ec2-state-change.pending.doc.json", { [FIXTURE_INSTANCE]: managed.id }),
    );
    await send(fixture("ignore/spot-fleet-instance-change.doc.json", {}));
    await send(
      fixture("eventbridge/rebalance-recommendation.derived.json", {
        [FIXTURE_INSTANCE]: foreign.id,
      }),
    );

    const consumer = startConsumer(url, engine, nodes);
    try {
      // Everything but the foreign instance's message goes away.
      await eventually("five messages deleted", async () =>
        (await depth(url)) <= 1 ? true : undefined,
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
      assert.equal(await depth(url), 1, "the foreign instance's message stays for its own cluster");
    } finally {
      await consumer.stop();
    }
  });

  test("a foreign instance's message is deleted when delete-sqs-msg-if-node-not-found is on", async () => {
    const { url } = await createQueue(`nthd-foreign-${suffix}`);
    const foreign = await runInstance({ [MANAGED_TAG]: "" });
    await aws.sqs.send(
      new SendMessageCommand({
        QueueUrl: url,
        MessageBody: fixture("eventbridge/spot-interruption-warning.terminate.derived.json", {
          [FIXTURE_INSTANCE]: foreign.id,
        }),
      }),
    );
    const engine = new RecordingEngine();
    const consumer = startConsumer(url, engine, new NodeTable(), {
      deleteSqsMsgIfNodeNotFound: true,
    });
    try {
      await eventually("message deleted", async () =>
        (await depth(url)) === 0 ? true : undefined,
      );
      assert.equal(engine.calls.length, 0);
    } finally {
      await consumer.stop();
    }
  });

  test("a node named by its private DNS name is found through DescribeInstances", async () => {
    const { url } = await createQueue(`nthd-dns-${suffix}`);
    const inst = await runInstance({ [MANAGED_TAG]: "" });
    assert.ok(inst.dns, "moto gives the instance a private DNS name");
    const nodes = new NodeTable();
    nodes.add(undefined, inst.dns); // no provider ID index entry
    const engine = new RecordingEngine();
    await aws.sqs.send(
      new SendMessageCommand({
        QueueUrl: url,
        MessageBody: fixture("eventbridge/ec2-state-change.stopping.derived.json", {
          "i-abcd1111": inst.id,
        }),
      }),
    );
    const consumer = startConsumer(url, engine, nodes);
    try {
      await eventually("message deleted", async () =>
        (await depth(url)) === 0 ? true : undefined,
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
    const managed = await runInstance({ [MANAGED_TAG]: "" });
    const unmanaged = await runInstance({ team: "x" });
    const { ec2, describeCalls } = countingEc2();
    const directory = createInstanceDirectory({ ec2 });
    await directory.prime([managed.id, unmanaged.id], 60_000);
    assert.deepEqual(describeCalls, [[managed.id, unmanaged.id]], "one batched call for both");
    await directory.prime([managed.id, unmanaged.id], 60_000);
    assert.equal(describeCalls.length, 1, "fresh answers are not fetched again");
    assert.ok((await directory.lookup(managed.id))?.tags.has(MANAGED_TAG));
    assert.equal((await directory.lookup(unmanaged.id))?.tags.has(MANAGED_TAG), false);
    assert.equal(describeCalls.length, 1, "lookups are answered from the primed cache");

    const { url } = await createQueue(`nthd-primed-${suffix}`);
    const nodes = new NodeTable();
    nodes.add(managed.id, "node-primed");
    nodes.add(unmanaged.id, "node-primed-unmanaged");
    await aws.sqs.send(
      new SendMessageCommand({
        QueueUrl: url,
        MessageBody: fixture("eventbridge/spot-interruption-warning.terminate.derived.json", {
          [FIXTURE_INSTANCE]: managed.id,
        }),
      }),
    );
    const engine = new RecordingEngine();
    const consumer = startConsumer(url, engine, nodes, {}, { ec2, instances: directory });
    try {
      await eventually("message deleted", async () =>
        (await depth(url)) === 0 ? true : undefined,
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
    const { url } = await createQueue(`nthd-primer-${suffix}`);
    const a = await runInstance({ [MANAGED_TAG]: "" });
    const b = await runInstance({ [MANAGED_TAG]: "" });
    const { ec2, describeCalls } = countingEc2();
    const consumer = startConsumer(
      url,
      new RecordingEngine(),
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

  test("a malformed message is never deleted, ends in the dead-letter queue, and does not block the next", async () => {
    const { url, dlqUrl } = await createQueue(`nthd-bad-${suffix}`, { dlq: true });
    const inst = await runInstance({ [MANAGED_TAG]: "" });
    const nodes = new NodeTable();
    nodes.add(inst.id, "node-after-bad");
    const engine = new RecordingEngine();
    await aws.sqs.send(
      new SendMessageCommand({ QueueUrl: url, MessageBody: '{"detail-type": 42' }),
    );
    await aws.sqs.send(
      new SendMessageCommand({
        QueueUrl: url,
        MessageBody: fixture("eventbridge/spot-interruption-warning.terminate.derived.json", {
          [FIXTURE_INSTANCE]: inst.id,
        }),
      }),
    );
    const consumer = startConsumer(url, engine, nodes, { sqsMsgVisibilityTimeoutSeconds: 1 });
    try {
      await eventually("the good message handled", async () =>
        engine.for(inst.id).length === 1 ? true : undefined,
      );
      await eventually(
        "the malformed message moved to the dead-letter queue",
        async () =>
          (await depth(url)) === 0 && (await depth(dlqUrl as string)) === 1 ? true : undefined,
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
    const { url } = await createQueue(`nthd-eb-${suffix}`);
    const arn = (
      await aws.sqs.send(
        new GetQueueAttributesCommand({ QueueUrl: url, AttributeNames: ["QueueArn"] }),
      )
    ).Attributes?.QueueArn;
    const eb = new EventBridgeClient({ region, endpoint: motoUrl, credentials });
    const rule = `nthd-spot-${suffix}`;
    // A bus of its own: other tests' events on the default bus never reach this queue.
    const bus = `nthd-consumer-bus-${suffix}`;
    await eb.send(new CreateEventBusCommand({ Name: bus }));
    await eb.send(
      new PutRuleCommand({
        Name: rule,
        EventBusName: bus,
        EventPattern: JSON.stringify({
          source: ["aws.ec2"],
          "detail-type": ["EC2 Spot Instance Interruption Warning"],
        }),
      }),
    );
    await eb.send(
      new PutTargetsCommand({ Rule: rule, EventBusName: bus, Targets: [{ Id: "nthd", Arn: arn }] }),
    );
    const inst = await runInstance({ [MANAGED_TAG]: "" });
    const nodes = new NodeTable();
    nodes.add(inst.id, "node-eb");
    const engine = new RecordingEngine();
    const consumer = startConsumer(url, engine, nodes);
    try {
      const put = await eb.send(
        new PutEventsCommand({
          Entries: [
            {
              EventBusName: bus,
              Source: "aws.ec2",
              DetailType: "EC2 Spot Instance Interruption Warning",
              Resources: [`arn:aws:ec2:${region}:123456789012:instance/${inst.id}`],
              Detail: JSON.stringify({ "instance-id": inst.id, "instance-action": "terminate" }),
            },
          ],
        }),
      );
      assert.equal(put.FailedEntryCount ?? 0, 0);
      const call = await eventually(
        "the engine asked to drain",
        async () => engine.for(inst.id)[0],
      );
      assert.equal(call.nodeName, "node-eb");
      assert.equal(call.notice.kind, "spot-interruption");
      assert.ok(call.notice.deadline, "a Spot warning carries its deadline");
      await eventually("message deleted", async () =>
        (await depth(url)) === 0 ? true : undefined,
      );
    } finally {
      await consumer.stop();
    }
  });
});

describe("Auto Scaling lifecycle actions on moto", () => {
  const group = `nthd-asg-${suffix}`;
  const hook = "nthd-terminate";
  const launchHook = "nthd-launch";
  let instances: string[] = [];

  before(async () => {
    await aws.autoscaling.send(
      new CreateLaunchConfigurationCommand({
        LaunchConfigurationName: `lc-${suffix}`,
        ImageId: "ami-12c6146b",
        InstanceType: "t3.micro",
      }),
    );
    await aws.autoscaling.send(
      new CreateAutoScalingGroupCommand({
        AutoScalingGroupName: group,
        LaunchConfigurationName: `lc-${suffix}`,
        MinSize: 0,
        MaxSize: 5,
        DesiredCapacity: 4,
        AvailabilityZones: [`${region}a`],
        Tags: [{ Key: MANAGED_TAG, Value: "", PropagateAtLaunch: true }],
      }),
    );
    // A short heartbeat timeout so a drain of a few seconds outlives it.
    await aws.autoscaling.send(
      new PutLifecycleHookCommand({
        AutoScalingGroupName: group,
        LifecycleHookName: hook,
        LifecycleTransition: "autoscaling:EC2_INSTANCE_TERMINATING",
        HeartbeatTimeout: 2,
        DefaultResult: "CONTINUE",
      }),
    );
    await aws.autoscaling.send(
      new PutLifecycleHookCommand({
        AutoScalingGroupName: group,
        LifecycleHookName: launchHook,
        LifecycleTransition: "autoscaling:EC2_INSTANCE_LAUNCHING",
        HeartbeatTimeout: 30,
        DefaultResult: "ABANDON",
      }),
    );
    const g = await aws.autoscaling.send(
      new DescribeAutoScalingGroupsCommand({ AutoScalingGroupNames: [group] }),
    );
    instances = (g.AutoScalingGroups?.[0]?.Instances ?? []).map((i) => i.InstanceId as string);
    assert.equal(instances.length, 4);
    const described = await aws.ec2.send(new DescribeInstancesCommand({ InstanceIds: instances }));
    const tagged = described.Reservations?.flatMap((r) => r.Instances ?? []).filter((i) =>
      i.Tags?.some((t) => t.Key === MANAGED_TAG),
    );
    assert.equal(tagged?.length, 4, "the group's tag propagates to its instances");
  });

  function terminateEvent(instanceId: string, token: string): string {
    return fixture("eventbridge/asg-terminate-lifecycle-action.doc-2023.json", {
      [FIXTURE_INSTANCE]: instanceId,
      "87654321-4321-4321-4321-210987654321": token,
      '"my-asg"': JSON.stringify(group),
      '"my-lifecycle-hook"': JSON.stringify(hook),
    });
  }

  test("terminate: heartbeats while the drain runs, CONTINUE after it, then the message is deleted", async () => {
    const instanceId = instances[0] as string;
    const { url } = await createQueue(`nthd-lc-${suffix}`);
    const action = await openLifecycleAction(motoUrl, {
      AutoScalingGroupName: group,
      LifecycleHookName: hook,
      InstanceId: instanceId,
    });
    const nodes = new NodeTable();
    nodes.add(instanceId, "node-asg-0");
    const engine = new RecordingEngine();
    const endDrain = engine.hold(instanceId);
    await aws.sqs.send(
      new SendMessageCommand({
        QueueUrl: url,
        MessageBody: terminateEvent(instanceId, action.LifecycleActionToken),
      }),
    );
    const consumer = startConsumer(url, engine, nodes);
    try {
      await eventually("the engine asked to drain", async () => engine.for(instanceId)[0]);
      // The hook times out after 2 s: heartbeats must keep it alive while the drain runs.
      await eventually("two heartbeats", async () => {
        const a = (await lifecycleState(motoUrl)).actions.find(
          (x) => x.LifecycleActionToken === action.LifecycleActionToken,
        );
        return a !== undefined && a.Heartbeats >= 2 ? true : undefined;
      });
      let state = await lifecycleState(motoUrl);
      assert.equal(
        state.calls.some(
          (c) => c.Operation === "CompleteLifecycleAction" && c.InstanceId === instanceId,
        ),
        false,
        "never completed before the drain is over",
      );
      assert.equal(await depth(url), 1, "the message stays while the drain runs");
      assert.equal(
        engine.for(instanceId).length,
        1,
        "visibility extended: no redelivery mid-drain",
      );

      endDrain("drained");
      await eventually("message deleted", async () =>
        (await depth(url)) === 0 ? true : undefined,
      );
      state = await lifecycleState(motoUrl);
      const done = state.actions.find(
        (x) => x.LifecycleActionToken === action.LifecycleActionToken,
      );
      assert.equal(done?.State, "Completed");
      assert.equal(done?.Result, "CONTINUE");
      const completes = state.calls.filter(
        (c) =>
          c.Operation === "CompleteLifecycleAction" &&
          c.LifecycleActionToken === action.LifecycleActionToken,
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
    const instanceId = instances[1] as string;
    const { url } = await createQueue(`nthd-lcfail-${suffix}`);
    const action = await openLifecycleAction(motoUrl, {
      AutoScalingGroupName: group,
      LifecycleHookName: hook,
      InstanceId: instanceId,
    });
    const nodes = new NodeTable();
    nodes.add(instanceId, "node-asg-1");
    const engine = new RecordingEngine();
    const endDrain = engine.hold(instanceId);
    await aws.sqs.send(
      new SendMessageCommand({
        QueueUrl: url,
        MessageBody: terminateEvent(instanceId, action.LifecycleActionToken),
      }),
    );
    const consumer = startConsumer(url, engine, nodes);
    try {
      await eventually("the engine asked to drain", async () => engine.for(instanceId)[0]);
      endDrain("failed");
      await eventually("redelivered and asked again", async () =>
        engine.for(instanceId).length >= 2 ? true : undefined,
      );
      const a = (await lifecycleState(motoUrl)).actions.find(
        (x) => x.LifecycleActionToken === action.LifecycleActionToken,
      );
      assert.equal(a?.State, "Pending", "not completed after a failed drain");
      assert.equal(await depth(url), 1);
    } finally {
      await consumer.stop();
    }
  });

  test("shutdown mid-drain: the consumer stops and the message is visible again at once", async () => {
    const instanceId = instances[2] as string;
    const { url } = await createQueue(`nthd-lcstop-${suffix}`);
    const action = await openLifecycleAction(motoUrl, {
      AutoScalingGroupName: group,
      LifecycleHookName: hook,
      InstanceId: instanceId,
    });
    const nodes = new NodeTable();
    nodes.add(instanceId, "node-asg-2");
    const engine = new RecordingEngine();
    engine.hold(instanceId);
    await aws.sqs.send(
      new SendMessageCommand({
        QueueUrl: url,
        MessageBody: terminateEvent(instanceId, action.LifecycleActionToken),
      }),
    );
    const consumer = startConsumer(url, engine, nodes, { sqsMsgVisibilityTimeoutSeconds: 60 });
    await eventually("the engine asked to drain", async () => engine.for(instanceId)[0]);
    await consumer.stop();
    const again = await aws.sqs.send(
      new ReceiveMessageCommand({ QueueUrl: url, WaitTimeSeconds: 2 }),
    );
    assert.equal(again.Messages?.length, 1, "released, not held for its 60 s visibility timeout");
    const a = (await lifecycleState(motoUrl)).actions.find(
      (x) => x.LifecycleActionToken === action.LifecycleActionToken,
    );
    assert.equal(a?.State, "Pending");
  });

  test("launch: completed once the instance's node is Ready, when configured", async () => {
    const instanceId = instances[3] as string;
    const { url } = await createQueue(`nthd-launch-${suffix}`);
    const action = await openLifecycleAction(motoUrl, {
      AutoScalingGroupName: group,
      LifecycleHookName: launchHook,
      InstanceId: instanceId,
    });
    const nodes = new NodeTable();
    const engine = new RecordingEngine();
    await aws.sqs.send(
      new SendMessageCommand({
        QueueUrl: url,
        MessageBody: fixture("eventbridge/asg-launch-lifecycle-action.doc-2023.json", {
          [FIXTURE_INSTANCE]: instanceId,
          "87654321-4321-4321-4321-210987654321": action.LifecycleActionToken,
          '"my-asg"': JSON.stringify(group),
          '"my-lifecycle-hook"': JSON.stringify(launchHook),
        }),
      }),
    );
    const consumer = startConsumer(url, engine, nodes, { completeLaunchLifecycleAction: true });
    try {
      nodes.add(instanceId, "node-launched", false); // joined, not Ready yet
      await new Promise((r) => setTimeout(r, 2500));
      let a = (await lifecycleState(motoUrl)).actions.find(
        (x) => x.LifecycleActionToken === action.LifecycleActionToken,
      );
      assert.equal(a?.State, "Pending", "not completed while the node is not Ready");
      nodes.ready.add("node-launched");
      await eventually("message deleted", async () =>
        (await depth(url)) === 0 ? true : undefined,
      );
      a = (await lifecycleState(motoUrl)).actions.find(
        (x) => x.LifecycleActionToken === action.LifecycleActionToken,
      );
      assert.equal(a?.State, "Completed");
      assert.equal(a?.Result, "CONTINUE");
      assert.equal(engine.calls.length, 0, "a launch never drains");
    } finally {
      await consumer.stop();
    }
  });
});
