// Queue mode end to end: the nthd process (src/main.ts) against the test
// ground's kube-apiserver + kwok nodes and moto's SQS, EC2, Auto Scaling and
// EventBridge. Messages go in the way AWS sends them; what is checked is what
// a cluster operator would see: the node cordoned and drained, the lifecycle
// action completed, the message gone. Also: nthd killed mid-drain loses nothing.

import assert from "node:assert/strict";
import { type ChildProcess, spawn } from "node:child_process";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import {
  AutoScalingClient,
  CreateAutoScalingGroupCommand,
  CreateLaunchConfigurationCommand,
  DescribeAutoScalingGroupsCommand,
  PutLifecycleHookCommand,
} from "@aws-sdk/client-auto-scaling";
import { EC2Client, RunInstancesCommand } from "@aws-sdk/client-ec2";
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
  SendMessageCommand,
  SQSClient,
} from "@aws-sdk/client-sqs";
import { AppsV1Api, CoreV1Api, PolicyV1Api, type V1Node } from "@kubernetes/client-node";
import { eventually } from "../env/eventually.ts";
import { createNode, ground, kubeConfig, waitNodeReady } from "../env/ground.ts";
import { lifecycleState, openLifecycleAction } from "../env/moto/start.ts";
import { awsEventPath } from "../support/fixtures.ts";

const REPO = join(new URL(".", import.meta.url).pathname, "..", "..");
const FIXTURES = awsEventPath("sqs");
const MANAGED_TAG = "aws-node-termination-handler/managed";
const region = "us-east-1";
const credentials = { accessKeyId: "test", secretAccessKey: "test" };
const suffix = Math.random().toString(36).slice(2, 8);

let sqs: SQSClient;
let ec2: EC2Client;
let autoscaling: AutoScalingClient;
let queueUrl = "";
let queueArn = "";
const namespace = `queue-e2e-${suffix}`;

async function depth(): Promise<number> {
  const out = await sqs.send(
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

/** Runs nthd in queue mode as its own process. */
function startNthd(): { proc: ChildProcess; output: () => string } {
  const g = ground();
  const proc = spawn(process.execPath, [join(REPO, "src", "main.ts")], {
    cwd: REPO,
    env: {
      PATH: process.env.PATH,
      ENABLE_SQS_TERMINATION_DRAINING: "true",
      QUEUE_URL: queueUrl,
      AWS_REGION: region,
      AWS_ENDPOINT: g.motoUrl,
      AWS_ACCESS_KEY_ID: credentials.accessKeyId,
      AWS_SECRET_ACCESS_KEY: credentials.secretAccessKey,
      KUBECONFIG: g.kubeconfig,
      NODE_TERMINATION_GRACE_PERIOD: "60",
      SQS_MSG_VISIBILITY_TIMEOUT_SEC: "5",
      LOG_LEVEL: "debug",
    },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let out = "";
  proc.stdout?.on("data", (d: Buffer) => {
    out += d.toString();
  });
  proc.stderr?.on("data", (d: Buffer) => {
    out += d.toString();
  });
  return { proc, output: () => out };
}

async function stopNthd(n: { proc: ChildProcess }, signal: NodeJS.Signals = "SIGTERM") {
  if (n.proc.exitCode !== null || n.proc.signalCode !== null) return;
  const exited = new Promise((r) => n.proc.once("exit", r));
  n.proc.kill(signal);
  await exited;
}

async function taggedInstance(): Promise<string> {
  const out = await ec2.send(
    new RunInstancesCommand({
      ImageId: "ami-12c6146b",
      MinCount: 1,
      MaxCount: 1,
      InstanceType: "m5.large",
      TagSpecifications: [{ ResourceType: "instance", Tags: [{ Key: MANAGED_TAG, Value: "" }] }],
    }),
  );
  return out.Instances?.[0]?.InstanceId as string;
}

/** A kwok node for the instance, with a one-replica Deployment pinned to it. */
async function nodeWithWorkload(name: string, instanceId: string, pdb = false): Promise<void> {
  const kc = kubeConfig();
  await createNode({ name, instanceId }, kc);
  await waitNodeReady(name, kc);
  const labels = { app: name };
  await kc.makeApiClient(AppsV1Api).createNamespacedDeployment({
    namespace,
    body: {
      metadata: { name },
      spec: {
        replicas: 1,
        selector: { matchLabels: labels },
        template: {
          metadata: { labels },
          spec: {
            nodeSelector: { "kubernetes.io/hostname": name },
            terminationGracePeriodSeconds: 5,
            containers: [{ name: "app", image: "app:1" }],
          },
        },
      },
    },
  });
  if (pdb) {
    await kc.makeApiClient(PolicyV1Api).createNamespacedPodDisruptionBudget({
      namespace,
      body: { metadata: { name }, spec: { minAvailable: 1, selector: { matchLabels: labels } } },
    });
  }
  await eventually(`a running pod on ${name}`, async () =>
    (await podsOn(name)) > 0 ? true : undefined,
  );
}

async function podsOn(nodeName: string): Promise<number> {
  const pods = await kubeConfig()
    .makeApiClient(CoreV1Api)
    .listNamespacedPod({ namespace, fieldSelector: `spec.nodeName=${nodeName}` });
  return pods.items.filter((p) => p.status?.phase === "Running" && !p.metadata?.deletionTimestamp)
    .length;
}

async function readNode(name: string): Promise<V1Node> {
  return kubeConfig().makeApiClient(CoreV1Api).readNode({ name });
}

before(async () => {
  const g = ground();
  const common = { region, endpoint: g.motoUrl, credentials };
  sqs = new SQSClient({ ...common, useQueueUrlAsEndpoint: false });
  ec2 = new EC2Client(common);
  autoscaling = new AutoScalingClient(common);
  const q = await sqs.send(new CreateQueueCommand({ QueueName: `nthd-e2e-${suffix}` }));
  queueUrl = q.QueueUrl as string;
  queueArn = (
    await sqs.send(
      new GetQueueAttributesCommand({ QueueUrl: queueUrl, AttributeNames: ["QueueArn"] }),
    )
  ).Attributes?.QueueArn as string;
  await kubeConfig()
    .makeApiClient(CoreV1Api)
    .createNamespace({ body: { metadata: { name: namespace } } });
});

after(async () => {
  await kubeConfig()
    .makeApiClient(CoreV1Api)
    .deleteNamespace({ name: namespace })
    .catch(() => {});
});

describe("queue mode end to end", () => {
  test("a Spot warning through EventBridge cordons and drains the node; the message is deleted", async () => {
    const instanceId = await taggedInstance();
    const nodeName = `spot-${suffix}`;
    await nodeWithWorkload(nodeName, instanceId);
    const eb = new EventBridgeClient({ region, endpoint: ground().motoUrl, credentials });
    const rule = `nthd-e2e-spot-${suffix}`;
    // A bus of its own: other tests' events on the default bus never reach this queue.
    const bus = `nthd-e2e-bus-${suffix}`;
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
      new PutTargetsCommand({
        Rule: rule,
        EventBusName: bus,
        Targets: [{ Id: "nthd", Arn: queueArn }],
      }),
    );
    const nthd = startNthd();
    try {
      await eb.send(
        new PutEventsCommand({
          Entries: [
            {
              EventBusName: bus,
              Source: "aws.ec2",
              DetailType: "EC2 Spot Instance Interruption Warning",
              Resources: [`arn:aws:ec2:${region}:123456789012:instance/${instanceId}`],
              Detail: JSON.stringify({ "instance-id": instanceId, "instance-action": "terminate" }),
            },
          ],
        }),
      );
      const node = await eventually("node cordoned", async () => {
        const n = await readNode(nodeName);
        return n.spec?.unschedulable ? n : undefined;
      });
      assert.ok(node.metadata?.annotations?.["nthd/record"], "nthd's record is on the node");
      await eventually("message deleted", async () => ((await depth()) === 0 ? true : undefined));
      await eventually("the workload evicted from the node", async () =>
        (await podsOn(nodeName)) === 0 ? true : undefined,
      );
    } catch (err) {
      process.stderr.write(nthd.output());
      throw err;
    } finally {
      await stopNthd(nthd);
    }
  });

  test("ASG terminate: drained, then CompleteLifecycleAction CONTINUE; nthd killed mid-drain loses nothing", async () => {
    const group = `nthd-e2e-asg-${suffix}`;
    const hook = "nthd-e2e-terminate";
    await autoscaling.send(
      new CreateLaunchConfigurationCommand({
        LaunchConfigurationName: `lc-e2e-${suffix}`,
        ImageId: "ami-12c6146b",
        InstanceType: "m5.large",
      }),
    );
    await autoscaling.send(
      new CreateAutoScalingGroupCommand({
        AutoScalingGroupName: group,
        LaunchConfigurationName: `lc-e2e-${suffix}`,
        MinSize: 0,
        MaxSize: 1,
        DesiredCapacity: 1,
        AvailabilityZones: [`${region}a`],
        Tags: [{ Key: MANAGED_TAG, Value: "", PropagateAtLaunch: true }],
      }),
    );
    await autoscaling.send(
      new PutLifecycleHookCommand({
        AutoScalingGroupName: group,
        LifecycleHookName: hook,
        LifecycleTransition: "autoscaling:EC2_INSTANCE_TERMINATING",
        HeartbeatTimeout: 300,
        DefaultResult: "CONTINUE",
      }),
    );
    const described = await autoscaling.send(
      new DescribeAutoScalingGroupsCommand({ AutoScalingGroupNames: [group] }),
    );
    const instanceId = described.AutoScalingGroups?.[0]?.Instances?.[0]?.InstanceId as string;
    const nodeName = `asg-${suffix}`;
    // The PodDisruptionBudget holds the drain until the test lifts it.
    await nodeWithWorkload(nodeName, instanceId, true);
    const action = await openLifecycleAction(ground().motoUrl, {
      AutoScalingGroupName: group,
      LifecycleHookName: hook,
      InstanceId: instanceId,
    });
    const body = readFileSync(
      `${FIXTURES}/eventbridge/asg-terminate-lifecycle-action.nth-fixture.json`,
      "utf8",
    );
    const event = JSON.parse(body) as { detail: Record<string, string> };
    event.detail.EC2InstanceId = instanceId;
    event.detail.AutoScalingGroupName = group;
    event.detail.LifecycleHookName = hook;
    event.detail.LifecycleActionToken = action.LifecycleActionToken;
    await sqs.send(
      new SendMessageCommand({ QueueUrl: queueUrl, MessageBody: JSON.stringify(event) }),
    );

    const first = startNthd();
    try {
      await eventually("node cordoned", async () =>
        (await readNode(nodeName)).spec?.unschedulable ? true : undefined,
      );
    } catch (err) {
      process.stderr.write(first.output());
      throw err;
    }
    await stopNthd(first, "SIGKILL");
    assert.equal(await depth(), 1, "the message survives the crash");
    let state = await lifecycleState(ground().motoUrl);
    assert.equal(
      state.actions.find((a) => a.LifecycleActionToken === action.LifecycleActionToken)?.State,
      "Pending",
      "not completed while the pod is still there",
    );

    const second = startNthd();
    try {
      await kubeConfig()
        .makeApiClient(PolicyV1Api)
        .deleteNamespacedPodDisruptionBudget({ name: nodeName, namespace });
      await eventually("the workload evicted from the node", async () =>
        (await podsOn(nodeName)) === 0 ? true : undefined,
      );
      await eventually(
        "message deleted",
        async () => ((await depth()) === 0 ? true : undefined),
        90_000,
      );
      state = await lifecycleState(ground().motoUrl);
      const done = state.actions.find(
        (a) => a.LifecycleActionToken === action.LifecycleActionToken,
      );
      assert.equal(done?.State, "Completed");
      assert.equal(done?.Result, "CONTINUE");
    } catch (err) {
      process.stderr.write(second.output());
      throw err;
    } finally {
      await stopNthd(second);
    }
  });
});
