// The world several nthd replicas share in a scenario: an SQS queue with a
// dead-letter queue, an Auto Scaling group whose instances are kwok nodes
// (so terminate lifecycle actions can be opened on them), a workload pinned
// to each node, optionally PodDisruptionBudgets that refuse every eviction,
// and the messages AWS would send: Spot interruption warnings and
// terminate lifecycle actions.
import { randomUUID } from "node:crypto";
import { DeleteAutoScalingGroupCommand } from "@aws-sdk/client-auto-scaling";
import { DeleteQueueCommand, SendMessageBatchCommand, type SQSClient } from "@aws-sdk/client-sqs";
import { AppsV1Api, CoreV1Api, PolicyV1Api } from "@kubernetes/client-node";
import { MAX_RECEIVE_COUNT } from "../../src/commands/setup/state.ts";
import { eventually } from "../support/eventually.ts";
import { createNode, ground, kubeConfig } from "./ground.ts";
import { createManagedGroup, createQueue, motoClients, REGION } from "./moto/aws.ts";
import { openLifecycleAction } from "./moto/start.ts";

const HOOK = "nthd-terminate";

export interface WorldNode {
  readonly name: string;
  readonly instanceId: string;
}

export interface World {
  readonly name: string;
  /** Workloads, and the replicas' Leases. */
  readonly namespace: string;
  readonly queueUrl: string;
  readonly dlqUrl: string;
  readonly group: string;
  readonly nodes: readonly WorldNode[];
  readonly podsPerNode: number;
  /** The workload's pods as first scheduled (the ones the drains must evict). */
  readonly pods: readonly string[];
  readonly sqs: SQSClient;
  cleanup(): Promise<void>;
}

export interface WorldSpec {
  /** Unique per scenario run: names the queue, group, namespace and nodes. */
  readonly name: string;
  readonly nodes: number;
  readonly podsPerNode: number;
  /** How long an evicted pod takes to go (kwok honours the grace period). */
  readonly graceSeconds: number;
  /** A PodDisruptionBudget per node that refuses every eviction until lifted. */
  readonly blockEvictions: boolean;
  /** The terminate hook's heartbeat timeout. */
  readonly hookTimeoutSeconds: number;
}

export async function buildWorld(spec: WorldSpec): Promise<World> {
  const kc = kubeConfig();
  const core = kc.makeApiClient(CoreV1Api);
  const apps = kc.makeApiClient(AppsV1Api);
  const policy = kc.makeApiClient(PolicyV1Api);
  const { sqs, autoscaling } = motoClients(ground().motoUrl);
  const namespace = spec.name;
  // With a dead-letter queue as `nthd setup` creates it: a replica stopped and
  // another killed may leave a message to be received three times.
  const { url: queueUrl, dlqUrl = "" } = await createQueue(sqs, spec.name, {
    dlq: true,
    maxReceiveCount: MAX_RECEIVE_COUNT,
  });
  const instanceIds = await createManagedGroup(autoscaling, spec.name, spec.nodes, [
    {
      name: HOOK,
      transition: "autoscaling:EC2_INSTANCE_TERMINATING",
      heartbeatTimeout: spec.hookTimeoutSeconds,
      defaultResult: "CONTINUE",
    },
  ]);
  if (instanceIds.length !== spec.nodes) {
    throw new Error(`group ${spec.name} has ${instanceIds.length} of ${spec.nodes} instances`);
  }
  await core.createNamespace({ body: { metadata: { name: namespace } } });
  const nodes = instanceIds.map((instanceId, i) => ({ name: `${spec.name}-${i}`, instanceId }));
  for (const n of nodes) {
    await createNode({ name: n.name, instanceId: n.instanceId, labels: { world: spec.name } }, kc);
  }
  for (const n of nodes) {
    const labels = { app: n.name };
    await apps.createNamespacedDeployment({
      namespace,
      body: {
        metadata: { name: n.name },
        spec: {
          replicas: spec.podsPerNode,
          selector: { matchLabels: labels },
          template: {
            metadata: { labels },
            spec: {
              nodeSelector: { "kubernetes.io/hostname": n.name },
              terminationGracePeriodSeconds: spec.graceSeconds,
              containers: [{ name: "app", image: "registry.invalid/app:1" }],
            },
          },
        },
      },
    });
    if (spec.blockEvictions) {
      await policy.createNamespacedPodDisruptionBudget({
        namespace,
        body: {
          metadata: { name: n.name },
          spec: { minAvailable: spec.podsPerNode, selector: { matchLabels: labels } },
        },
      });
    }
  }
  const want = spec.nodes * spec.podsPerNode;
  const pods = await eventually(
    `${want} running pods in ${namespace}`,
    async () => {
      const list = await core.listNamespacedPod({ namespace });
      const running = list.items.filter((p) => p.status?.phase === "Running");
      return running.length === want ? running.map((p) => p.metadata?.name ?? "") : undefined;
    },
    180_000,
  );
  if (spec.blockEvictions) {
    // A budget refuses evictions only once the disruption controller has counted its pods.
    await eventually(
      "PodDisruptionBudgets settled",
      async () => {
        const pdbs = await policy.listNamespacedPodDisruptionBudget({ namespace });
        return pdbs.items.every((p) => p.status?.currentHealthy === spec.podsPerNode)
          ? true
          : undefined;
      },
      120_000,
    );
  }
  return {
    name: spec.name,
    namespace,
    queueUrl,
    dlqUrl,
    group: spec.name,
    nodes,
    podsPerNode: spec.podsPerNode,
    pods,
    sqs,
    async cleanup() {
      await core.deleteNamespace({ name: namespace }).catch(() => undefined);
      for (const n of nodes) await core.deleteNode({ name: n.name }).catch(() => undefined);
      for (const url of [queueUrl, dlqUrl]) {
        await sqs.send(new DeleteQueueCommand({ QueueUrl: url })).catch(() => undefined);
      }
      await autoscaling
        .send(
          new DeleteAutoScalingGroupCommand({ AutoScalingGroupName: spec.name, ForceDelete: true }),
        )
        .catch(() => undefined);
    },
  };
}

/** Lifts every PodDisruptionBudget of the world: the drains may finish. */
export async function liftBudgets(world: World): Promise<void> {
  const policy = kubeConfig().makeApiClient(PolicyV1Api);
  for (const n of world.nodes) {
    await policy
      .deleteNamespacedPodDisruptionBudget({ name: n.name, namespace: world.namespace })
      .catch(() => undefined);
  }
}

/** The EventBridge Spot interruption warning for an instance (deadline: two minutes on). */
export function spotWarning(instanceId: string, at = new Date()): string {
  return JSON.stringify({
    version: "0",
    id: randomUUID(),
    "detail-type": "EC2 Spot Instance Interruption Warning",
    source: "aws.ec2",
    account: "123456789012",
    time: at.toISOString().replace(/\.\d{3}Z$/, "Z"),
    region: REGION,
    resources: [`arn:aws:ec2:${REGION}:123456789012:instance/${instanceId}`],
    detail: { "instance-id": instanceId, "instance-action": "terminate" },
  });
}

/**
 * Opens a terminate lifecycle action in moto (as Auto Scaling does when it
 * starts terminating the instance) and returns the EventBridge event for it.
 */
export async function terminateAction(world: World, instanceId: string): Promise<string> {
  const action = await openLifecycleAction(ground().motoUrl, {
    AutoScalingGroupName: world.group,
    LifecycleHookName: HOOK,
    InstanceId: instanceId,
  });
  return JSON.stringify({
    version: "0",
    id: randomUUID(),
    "detail-type": "EC2 Instance-terminate Lifecycle Action",
    source: "aws.autoscaling",
    account: "123456789012",
    time: new Date().toISOString().replace(/\.\d{3}Z$/, "Z"),
    region: REGION,
    resources: [
      `arn:aws:autoscaling:${REGION}:123456789012:autoScalingGroup:x:autoScalingGroupName/${world.group}`,
    ],
    detail: {
      LifecycleActionToken: action.LifecycleActionToken,
      AutoScalingGroupName: world.group,
      LifecycleHookName: HOOK,
      EC2InstanceId: instanceId,
      LifecycleTransition: "autoscaling:EC2_INSTANCE_TERMINATING",
    },
  });
}

/** Puts messages on the world's queue, ten per call. */
export async function send(world: World, bodies: readonly string[]): Promise<void> {
  for (let i = 0; i < bodies.length; i += 10) {
    const out = await world.sqs.send(
      new SendMessageBatchCommand({
        QueueUrl: world.queueUrl,
        Entries: bodies.slice(i, i + 10).map((body, k) => ({ Id: String(k), MessageBody: body })),
      }),
    );
    if ((out.Failed ?? []).length > 0) throw new Error(`${out.Failed?.length} messages not sent`);
  }
}
