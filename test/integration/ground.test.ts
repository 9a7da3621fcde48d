// Proves the test ground is made of real parts: PDB status computed by the
// disruption controller, the Eviction API answering 429, kwok nodes turning
// Ready, the metadata emulator serving IMDSv2, and SQS/EventBridge in moto.

import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import {
  CreateEventBusCommand,
  EventBridgeClient,
  PutEventsCommand,
  PutRuleCommand,
  PutTargetsCommand,
} from "@aws-sdk/client-eventbridge";
import {
  CreateQueueCommand,
  DeleteMessageCommand,
  GetQueueAttributesCommand,
  ReceiveMessageCommand,
  SendMessageCommand,
  SQSClient,
} from "@aws-sdk/client-sqs";
import {
  ApiException,
  AppsV1Api,
  CoreV1Api,
  PatchStrategy,
  PolicyV1Api,
  setHeaderOptions,
  type V1Pod,
} from "@kubernetes/client-node";
import {
  createNode,
  ground,
  kubeConfig,
  randomInstanceId,
  startMetadataMock,
  waitNodeReady,
} from "../env/ground.ts";
import { eventually } from "../support/eventually.ts";

const suffix = Math.random().toString(36).slice(2, 8);
const aws = { region: "us-east-1", credentials: { accessKeyId: "test", secretAccessKey: "test" } };

describe("kubernetes control plane with kwok", () => {
  const kc = kubeConfig();
  const core = kc.makeApiClient(CoreV1Api);
  const apps = kc.makeApiClient(AppsV1Api);
  const policy = kc.makeApiClient(PolicyV1Api);
  const namespace = `ground-${suffix}`;
  const nodeName = `ground-node-${suffix}`;

  before(async () => {
    await core.createNamespace({ body: { metadata: { name: namespace } } });
    await createNode(
      { name: nodeName, instanceId: randomInstanceId(), labels: { "nthd-test": namespace } },
      kc,
    );
  });
  after(async () => {
    await core.deleteNamespace({ name: namespace }).catch(() => {});
    await core.deleteNode({ name: nodeName }).catch(() => {});
  });

  test("a kwok node becomes Ready and carries its EC2 provider id", async () => {
    await waitNodeReady(nodeName, kc);
    const node = await core.readNode({ name: nodeName });
    assert.match(node.spec?.providerID ?? "", /^aws:\/\/\/us-east-1a\/i-[0-9a-f]{17}$/);
  });

  test("the disruption controller computes PDB status and the Eviction API enforces it", async () => {
    const labels = { app: "web" };
    await apps.createNamespacedDeployment({
      namespace,
      body: {
        metadata: { name: "web" },
        spec: {
          replicas: 2,
          selector: { matchLabels: labels },
          template: {
            metadata: { labels },
            spec: {
              nodeSelector: { "nthd-test": namespace },
              containers: [{ name: "web", image: "registry.invalid/web:1" }],
            },
          },
        },
      },
    });
    // A budget that allows no disruption: minAvailable equals the replicas.
    await policy.createNamespacedPodDisruptionBudget({
      namespace,
      body: {
        metadata: { name: "web" },
        spec: { minAvailable: 2, selector: { matchLabels: labels } },
      },
    });
    const blocked = await eventually("PDB status with 2 healthy pods", async () => {
      const pdb = await policy.readNamespacedPodDisruptionBudget({ name: "web", namespace });
      return pdb.status?.currentHealthy === 2 && pdb.status.observedGeneration === 1
        ? pdb.status
        : undefined;
    });
    assert.equal(blocked.desiredHealthy, 2);
    assert.equal(blocked.disruptionsAllowed, 0);

    const pods = (await core.listNamespacedPod({ namespace, labelSelector: "app=web" })).items;
    assert.equal(pods.length, 2);
    const target = pods[0] as V1Pod;
    const evict = () =>
      core.createNamespacedPodEviction({
        name: target.metadata?.name as string,
        namespace,
        body: { metadata: { name: target.metadata?.name, namespace } },
      });
    const refused = await evict().then(
      () => undefined,
      (err: unknown) => err,
    );
    assert.ok(refused instanceof ApiException, `expected an ApiException, got ${String(refused)}`);
    assert.equal(refused.code, 429);

    // Relax the budget; once the controller has recomputed it, the eviction goes through.
    await policy.patchNamespacedPodDisruptionBudget(
      { name: "web", namespace, body: [{ op: "replace", path: "/spec/minAvailable", value: 1 }] },
      setHeaderOptions("Content-Type", PatchStrategy.JsonPatch),
    );
    const relaxed = await eventually("PDB allowing one disruption", async () => {
      const pdb = await policy.readNamespacedPodDisruptionBudget({ name: "web", namespace });
      return pdb.status?.disruptionsAllowed === 1 ? pdb.status : undefined;
    });
    assert.equal(relaxed.desiredHealthy, 1);
    await evict();
    const evicted = await core
      .readNamespacedPod({ name: target.metadata?.name as string, namespace })
      .then(
        (pod) => pod.metadata?.deletionTimestamp !== undefined,
        (err: unknown) => err instanceof ApiException && err.code === 404,
      );
    assert.ok(evicted, "the evicted pod is terminating or gone");
  });
});

describe("EC2 instance metadata emulator", () => {
  test("serves an IMDSv2 token and a Spot instance-action", async () => {
    const mock = await startMetadataMock(["spot", "-a", "terminate", "-I"]);
    try {
      const unauthenticated = await fetch(`${mock.url}/latest/meta-data/spot/instance-action`);
      assert.equal(unauthenticated.status, 401);
      const tokenResponse = await fetch(`${mock.url}/latest/api/token`, {
        method: "PUT",
        headers: { "X-aws-ec2-metadata-token-ttl-seconds": "60" },
      });
      assert.equal(tokenResponse.status, 200);
      const token = await tokenResponse.text();
      assert.ok(token.length > 0);
      const action = await fetch(`${mock.url}/latest/meta-data/spot/instance-action`, {
        headers: { "X-aws-ec2-metadata-token": token },
      });
      assert.equal(action.status, 200);
      const body = (await action.json()) as { action: string; time: string };
      assert.equal(body.action, "terminate");
      assert.ok(!Number.isNaN(Date.parse(body.time)));
    } finally {
      await mock.stop();
    }
  });
});

describe("moto: SQS and EventBridge", () => {
  const endpoint = ground().motoUrl;
  const sqs = new SQSClient({ ...aws, endpoint });
  const events = new EventBridgeClient({ ...aws, endpoint });

  test("sends, receives and deletes an SQS message", async () => {
    const { QueueUrl } = await sqs.send(new CreateQueueCommand({ QueueName: `ground-${suffix}` }));
    await sqs.send(new SendMessageCommand({ QueueUrl, MessageBody: "hello" }));
    const received = await sqs.send(new ReceiveMessageCommand({ QueueUrl, WaitTimeSeconds: 2 }));
    const message = received.Messages?.[0];
    assert.equal(message?.Body, "hello");
    await sqs.send(new DeleteMessageCommand({ QueueUrl, ReceiptHandle: message?.ReceiptHandle }));
    const attributes = await sqs.send(
      new GetQueueAttributesCommand({ QueueUrl, AttributeNames: ["ApproximateNumberOfMessages"] }),
    );
    assert.equal(attributes.Attributes?.ApproximateNumberOfMessages, "0");
  });

  test("an EventBridge rule delivers a matching event to an SQS queue", async () => {
    const { QueueUrl } = await sqs.send(
      new CreateQueueCommand({ QueueName: `ground-events-${suffix}` }),
    );
    const attributes = await sqs.send(
      new GetQueueAttributesCommand({ QueueUrl, AttributeNames: ["QueueArn"] }),
    );
    const rule = `ground-spot-${suffix}`;
    // A bus of its own: other tests' events on the default bus never reach this queue.
    const bus = `ground-bus-${suffix}`;
    await events.send(new CreateEventBusCommand({ Name: bus }));
    await events.send(
      new PutRuleCommand({
        Name: rule,
        EventBusName: bus,
        EventPattern: JSON.stringify({
          source: ["aws.ec2"],
          "detail-type": ["EC2 Spot Instance Interruption Warning"],
        }),
      }),
    );
    await events.send(
      new PutTargetsCommand({
        Rule: rule,
        EventBusName: bus,
        Targets: [{ Id: "queue", Arn: attributes.Attributes?.QueueArn }],
      }),
    );
    const instanceId = randomInstanceId();
    await events.send(
      new PutEventsCommand({
        Entries: [
          {
            EventBusName: bus,
            Source: "aws.ec2",
            DetailType: "EC2 Spot Instance Interruption Warning",
            Detail: JSON.stringify({ "instance-id": instanceId, "instance-action": "terminate" }),
          },
          {
            EventBusName: bus,
            Source: "aws.ec2",
            DetailType: "EC2 Instance State-change Notification",
            Detail: "{}",
          },
        ],
      }),
    );
    const received = await sqs.send(
      new ReceiveMessageCommand({ QueueUrl, WaitTimeSeconds: 2, MaxNumberOfMessages: 10 }),
    );
    assert.equal(received.Messages?.length, 1, "only the matching event is delivered");
    const event = JSON.parse(received.Messages?.[0]?.Body ?? "{}") as {
      detail: { "instance-id": string };
    };
    assert.equal(event.detail["instance-id"], instanceId);
  });
});
