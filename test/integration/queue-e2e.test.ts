// Queue mode end to end: the nthd process (src/main.ts) against the test
// ground's kube-apiserver + kwok nodes and moto's SQS, EC2, Auto Scaling and
// EventBridge. Messages go in the way AWS sends them; what is checked is what
// a cluster operator would see: the node cordoned and drained, the lifecycle
// action completed, the message gone. Also: nthd killed mid-drain loses nothing.

import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { CoreV1Api, PolicyV1Api, type V1Node } from "@kubernetes/client-node";
import {
  createNode,
  createPdb,
  deployPinned,
  ground,
  kubeConfig,
  podsOnNode,
  waitNodeReady,
} from "../env/ground.ts";
import {
  queueArn as arnOf,
  createManagedGroup,
  createQueue,
  MANAGED_TAG,
  type MotoAws,
  motoClients,
  motoEnv,
  putSpotWarning,
  queueDepth,
  routeSpotWarnings,
  runInstance,
  sendMessage,
} from "../env/moto/aws.ts";
import { lifecycleActionOf, openLifecycleAction } from "../env/moto/start.ts";
import { type NthdProcess, startNthd } from "../env/nthd-process.ts";
import { eventually } from "../support/eventually.ts";
import { readAwsEvent } from "../support/fixtures.ts";
import { runSuffix } from "../support/ids.ts";

const suffix = runSuffix();

let aws: MotoAws;
let queueUrl = "";
let queueArn = "";
const namespace = `queue-e2e-${suffix}`;

const depth = () => queueDepth(aws.sqs, queueUrl);

/** Runs nthd in queue mode as its own process, through the shared launcher. */
function startQueueMode(): NthdProcess {
  const g = ground();
  return startNthd({
    ENABLE_SQS_TERMINATION_DRAINING: "true",
    QUEUE_URL: queueUrl,
    ...motoEnv(g.motoUrl),
    KUBECONFIG: g.kubeconfig,
    NODE_TERMINATION_GRACE_PERIOD: "60",
    SQS_MSG_VISIBILITY_TIMEOUT_SEC: "5",
    LOG_LEVEL: "debug",
  });
}

/** A kwok node for the instance, with a one-replica Deployment pinned to it. */
async function nodeWithWorkload(name: string, instanceId: string, pdb = false): Promise<void> {
  const kc = kubeConfig();
  await createNode({ name, instanceId }, kc);
  await waitNodeReady(name, kc);
  await deployPinned(
    namespace,
    name,
    { replicas: 1, nodeSelector: { "kubernetes.io/hostname": name }, graceSeconds: 5 },
    kc,
  );
  if (pdb) await createPdb(namespace, name, 1, {}, kc);
}

async function podsOn(nodeName: string): Promise<number> {
  return (await podsOnNode(namespace, nodeName)).length;
}

async function readNode(name: string): Promise<V1Node> {
  return kubeConfig().makeApiClient(CoreV1Api).readNode({ name });
}

before(async () => {
  aws = motoClients(ground().motoUrl);
  queueUrl = (await createQueue(aws.sqs, `nthd-e2e-${suffix}`)).url;
  queueArn = await arnOf(aws.sqs, queueUrl);
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
    const instanceId = (await runInstance(aws.ec2, { [MANAGED_TAG]: "" })).id;
    const nodeName = `spot-${suffix}`;
    await nodeWithWorkload(nodeName, instanceId);
    const bus = `nthd-e2e-bus-${suffix}`;
    await routeSpotWarnings(aws.eventbridge, { bus, rule: `nthd-e2e-spot-${suffix}`, queueArn });
    const nthd = startQueueMode();
    try {
      await putSpotWarning(aws.eventbridge, bus, instanceId);
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
      await nthd.stop();
    }
  });

  test("ASG terminate: drained, then CompleteLifecycleAction CONTINUE; nthd killed mid-drain loses nothing", async () => {
    const group = `nthd-e2e-asg-${suffix}`;
    const hook = "nthd-e2e-terminate";
    const [instanceId] = (await createManagedGroup(aws.autoscaling, group, 1, [
      {
        name: hook,
        transition: "autoscaling:EC2_INSTANCE_TERMINATING",
        heartbeatTimeout: 300,
        defaultResult: "CONTINUE",
      },
    ])) as [string];
    const nodeName = `asg-${suffix}`;
    // The PodDisruptionBudget holds the drain until the test lifts it.
    await nodeWithWorkload(nodeName, instanceId, true);
    const action = await openLifecycleAction(aws.url, {
      AutoScalingGroupName: group,
      LifecycleHookName: hook,
      InstanceId: instanceId,
    });
    const event = JSON.parse(
      readAwsEvent("sqs/eventbridge/asg-terminate-lifecycle-action.nth-fixture.json"),
    ) as { detail: Record<string, string> };
    event.detail.EC2InstanceId = instanceId;
    event.detail.AutoScalingGroupName = group;
    event.detail.LifecycleHookName = hook;
    event.detail.LifecycleActionToken = action.LifecycleActionToken;
    await sendMessage(aws.sqs, queueUrl, JSON.stringify(event));

    const first = startQueueMode();
    try {
      await eventually("node cordoned", async () =>
        (await readNode(nodeName)).spec?.unschedulable ? true : undefined,
      );
    } catch (err) {
      process.stderr.write(first.output());
      await first.stop();
      throw err;
    }
    first.child.kill("SIGKILL");
    await first.exited();
    assert.equal(await depth(), 1, "the message survives the crash");
    assert.equal(
      (await lifecycleActionOf(aws.url, action.LifecycleActionToken))?.State,
      "Pending",
      "not completed while the pod is still there",
    );

    const second = startQueueMode();
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
      const done = await lifecycleActionOf(aws.url, action.LifecycleActionToken);
      assert.equal(done?.State, "Completed");
      assert.equal(done?.Result, "CONTINUE");
    } catch (err) {
      process.stderr.write(second.output());
      throw err;
    } finally {
      await second.stop();
    }
  });
});
