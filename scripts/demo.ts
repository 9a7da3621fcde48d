// The demo: queue mode end to end on the local test ground. A small kwok
// cluster runs a workload guarded by a PodDisruptionBudget; an EventBridge
// rule feeds an SQS queue (moto); nthd runs as it would in a cluster; a Spot
// interruption warning arrives and nthd cordons and drains the node in time.
// Before the warning, `nthd audit` says whether the nodes would drain in time.
import { spawnSync } from "node:child_process";
import { EC2Client, RunInstancesCommand } from "@aws-sdk/client-ec2";
import {
  EventBridgeClient,
  PutEventsCommand,
  PutRuleCommand,
  PutTargetsCommand,
} from "@aws-sdk/client-eventbridge";
import { CreateQueueCommand, GetQueueAttributesCommand, SQSClient } from "@aws-sdk/client-sqs";
import { AppsV1Api, CoreV1Api, PolicyV1Api } from "@kubernetes/client-node";
import { createNode, freePort, kubeConfig, waitNodeReady } from "../test/env/ground.ts";
import { startGround, stopGround } from "../test/env/ground-up.ts";
import { eventually, startNthd } from "../test/env/nthd-process.ts";

const say = (line: string) => process.stdout.write(`${line}\n`);
const seconds = (ms: number) => `${(ms / 1000).toFixed(2)} s`;
const region = "us-east-1";
const namespace = "shop";
const managedTag = "aws-node-termination-handler/managed";

say("Starting the local test ground (kube-apiserver, controllers, kwok, moto)...");
const ground = await startGround();
const aws = {
  region,
  endpoint: ground.motoUrl,
  credentials: { accessKeyId: "demo", secretAccessKey: "demo" },
};
let nthd: ReturnType<typeof startNthd> | undefined;
try {
  const kc = kubeConfig();
  const core = kc.makeApiClient(CoreV1Api);

  // AWS side, as kOps or `nthd setup` would create it: queue + rule, and
  // three tagged Spot instances.
  const sqs = new SQSClient(aws);
  const { QueueUrl } = await sqs.send(new CreateQueueCommand({ QueueName: "demo-cluster-nth" }));
  const arn = await sqs.send(
    new GetQueueAttributesCommand({ QueueUrl, AttributeNames: ["QueueArn"] }),
  );
  const events = new EventBridgeClient(aws);
  await events.send(
    new PutRuleCommand({
      Name: "demo-cluster-SpotInterruption",
      EventPattern: JSON.stringify({
        source: ["aws.ec2"],
        "detail-type": ["EC2 Spot Instance Interruption Warning"],
      }),
    }),
  );
  await events.send(
    new PutTargetsCommand({
      Rule: "demo-cluster-SpotInterruption",
      Targets: [{ Id: "nthd", Arn: arn.Attributes?.QueueArn }],
    }),
  );
  const run = await new EC2Client(aws).send(
    new RunInstancesCommand({
      ImageId: "ami-12c6146b",
      InstanceType: "m5.large",
      MinCount: 3,
      MaxCount: 3,
      TagSpecifications: [{ ResourceType: "instance", Tags: [{ Key: managedTag, Value: "" }] }],
    }),
  );
  const instanceIds = (run.Instances ?? []).map((i) => i.InstanceId as string);

  // Kubernetes side: three nodes, a 6-replica shop with a PDB (one pod down at a time).
  const nodes = instanceIds.map((id, i) => ({ name: `ip-10-0-0-${i + 10}.ec2.internal`, id }));
  for (const node of nodes) {
    await createNode({ name: node.name, instanceId: node.id, labels: { demo: "true" } }, kc);
    await waitNodeReady(node.name, kc);
  }
  await core.createNamespace({ body: { metadata: { name: namespace } } });
  const labels = { app: "checkout" };
  await kc.makeApiClient(AppsV1Api).createNamespacedDeployment({
    namespace,
    body: {
      metadata: { name: "checkout" },
      spec: {
        replicas: 6,
        selector: { matchLabels: labels },
        template: {
          metadata: { labels },
          spec: {
            nodeSelector: { demo: "true" },
            terminationGracePeriodSeconds: 5,
            topologySpreadConstraints: [
              {
                maxSkew: 1,
                topologyKey: "kubernetes.io/hostname",
                whenUnsatisfiable: "ScheduleAnyway",
                labelSelector: { matchLabels: labels },
              },
            ],
            containers: [{ name: "checkout", image: "registry.invalid/checkout:1" }],
          },
        },
      },
    },
  });
  await kc.makeApiClient(PolicyV1Api).createNamespacedPodDisruptionBudget({
    namespace,
    body: {
      metadata: { name: "checkout" },
      spec: { maxUnavailable: 1, selector: { matchLabels: labels } },
    },
  });
  const podsOn = async (node: string) =>
    (
      await core.listNamespacedPod({ namespace, fieldSelector: `spec.nodeName=${node}` })
    ).items.filter((p) => p.metadata?.deletionTimestamp === undefined).length;
  await eventually("6 running pods", async () => {
    const pods = await core.listNamespacedPod({ namespace });
    return pods.items.filter((p) => p.status?.phase === "Running").length === 6 ? true : undefined;
  });
  const victim = nodes[0] as { name: string; id: string };
  say(`\nCluster ready: ${nodes.length} nodes, 6 checkout pods, PDB maxUnavailable=1.`);
  for (const node of nodes) say(`  ${node.name}  ${node.id}  pods=${await podsOn(node.name)}`);

  // Before any notice: would these nodes drain in time? (docs/audit.md) The
  // audit reads the PDB's status, so wait for the disruption controller.
  await eventually("the PDB's status", async () => {
    const pdb = await kc
      .makeApiClient(PolicyV1Api)
      .readNamespacedPodDisruptionBudget({ namespace, name: "checkout" });
    return pdb.status?.currentHealthy === 6 && pdb.status.expectedPods === 6 ? true : undefined;
  });
  say("\nnthd audit -l demo=true (before any notice comes):\n");
  const audit = spawnSync(process.execPath, ["src/main.ts", "audit", "-l", "demo=true"], {
    cwd: new URL("..", import.meta.url).pathname,
    encoding: "utf8",
    env: { PATH: process.env.PATH ?? "", KUBECONFIG: ground.kubeconfig },
  });
  process.stdout.write(audit.stdout.replace(/^/gm, "  "));
  if (audit.status !== 0 && audit.status !== 1) say(`  nthd audit failed: ${audit.stderr}`);

  // nthd in queue mode, configured with aws-node-termination-handler's variables.
  const probesPort = await freePort();
  nthd = startNthd({
    ENABLE_SQS_TERMINATION_DRAINING: "true",
    QUEUE_URL: QueueUrl as string,
    AWS_REGION: region,
    AWS_ENDPOINT: ground.motoUrl,
    AWS_ACCESS_KEY_ID: "demo",
    AWS_SECRET_ACCESS_KEY: "demo",
    KUBECONFIG: ground.kubeconfig,
    TAINT_NODE: "true",
    EMIT_KUBERNETES_EVENTS: "true",
    ENABLE_PROBES_SERVER: "true",
    PROBES_SERVER_PORT: String(probesPort),
    NTHD_BIND_ADDRESS: "127.0.0.1",
    JSON_LOGGING: "false",
  });
  const started = Date.now();
  await eventually("nthd ready", async () =>
    (await fetch(`http://127.0.0.1:${probesPort}/readyz`)).ok ? true : undefined,
  );
  say(`\nnthd (queue mode) ready in ${seconds(Date.now() - started)}.`);

  // The interruption: EventBridge delivers AWS's two-minute warning to the queue.
  const sent = Date.now();
  await events.send(
    new PutEventsCommand({
      Entries: [
        {
          Source: "aws.ec2",
          DetailType: "EC2 Spot Instance Interruption Warning",
          Resources: [`arn:aws:ec2:${region}:123456789012:instance/${victim.id}`],
          Detail: JSON.stringify({ "instance-id": victim.id, "instance-action": "terminate" }),
        },
      ],
    }),
  );
  say(`\nSpot interruption warning sent for ${victim.id} (${victim.name}).`);
  await eventually("cordon", async () =>
    (await core.readNode({ name: victim.name })).spec?.unschedulable ? true : undefined,
  );
  const cordonedAfter = Date.now() - sent;
  say(`  cordoned and tainted after ${seconds(cordonedAfter)}`);
  await eventually(
    "drain",
    async () => ((await podsOn(victim.name)) === 0 ? true : undefined),
    120_000,
  );
  const drainedAfter = Date.now() - sent;
  say(`  drained after ${seconds(drainedAfter)} (one pod at a time, as the PDB allows)`);
  const depth = await sqs.send(
    new GetQueueAttributesCommand({
      QueueUrl,
      AttributeNames: ["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"],
    }),
  );
  const node = await core.readNode({ name: victim.name });
  // nthd records the drain's outcome as an Event once it has checked the node is empty.
  const nodeEvents = await eventually(
    "the drain's Event",
    async () => {
      const list = await core.listNamespacedEvent({
        namespace: "default",
        fieldSelector: `involvedObject.name=${victim.name}`,
      });
      return list.items.some((e) => e.reason === "CordonAndDrain") ? list : undefined;
    },
    15_000,
  ).catch(() =>
    core.listNamespacedEvent({
      namespace: "default",
      fieldSelector: `involvedObject.name=${victim.name}`,
    }),
  );
  say("\nSummary");
  say(
    `  notice -> cordon: ${seconds(cordonedAfter)}; notice -> drained: ${seconds(drainedAfter)} (the notice gives 120 s)`,
  );
  say(
    `  taints on ${victim.name}: ${(node.spec?.taints ?? []).map((t) => `${t.key}:${t.effect}`).join(", ")}`,
  );
  say(`  events on the node: ${[...new Set(nodeEvents.items.map((e) => e.reason))].join(", ")}`);
  say(
    `  messages left in the queue: ${Number(depth.Attributes?.ApproximateNumberOfMessages) + Number(depth.Attributes?.ApproximateNumberOfMessagesNotVisible)}`,
  );
  for (const n of nodes) say(`  ${n.name}  pods=${await podsOn(n.name)}`);
} finally {
  const code = await nthd?.stop();
  if (code !== undefined && code !== 0)
    process.stdout.write(`nthd exited with ${code}:\n${nthd?.output()}\n`);
  await stopGround(ground);
}
