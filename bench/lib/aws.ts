// The AWS side of a scenario, on moto: a queue, EC2 instances that stand for
// the interrupted nodes (so handlers that look instances up find them, with
// the managed tag both handlers check by default), and the Spot interruption
// warnings EventBridge would put on the queue.
import { randomUUID } from "node:crypto";
import { EC2Client, RunInstancesCommand } from "@aws-sdk/client-ec2";
import {
  CreateQueueCommand,
  DeleteQueueCommand,
  GetQueueAttributesCommand,
  SendMessageBatchCommand,
  SQSClient,
} from "@aws-sdk/client-sqs";
import { mapLimit } from "./ground.ts";
import { BENCH_REGION } from "./handlers.ts";

const credentials = { accessKeyId: "testing", secretAccessKey: "testing" };
export const MANAGED_TAG = "aws-node-termination-handler/managed";

export function awsClients(motoUrl: string): { sqs: SQSClient; ec2: EC2Client } {
  const common = { region: BENCH_REGION, endpoint: motoUrl, credentials, maxAttempts: 3 };
  return { sqs: new SQSClient(common), ec2: new EC2Client(common) };
}

export async function createQueue(sqs: SQSClient, name: string): Promise<string> {
  const out = await sqs.send(
    new CreateQueueCommand({ QueueName: name, Attributes: { MessageRetentionPeriod: "300" } }),
  );
  if (!out.QueueUrl) throw new Error(`CreateQueue ${name}: no URL`);
  return out.QueueUrl;
}

export async function deleteQueue(sqs: SQSClient, url: string): Promise<void> {
  await sqs.send(new DeleteQueueCommand({ QueueUrl: url })).catch(() => undefined);
}

/** Messages visible plus in flight: what is still on the queue. */
export async function queueDepth(sqs: SQSClient, url: string): Promise<number> {
  const out = await sqs.send(
    new GetQueueAttributesCommand({
      QueueUrl: url,
      AttributeNames: ["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"],
    }),
  );
  const a = out.Attributes ?? {};
  return (
    Number(a.ApproximateNumberOfMessages ?? 0) +
    Number(a.ApproximateNumberOfMessagesNotVisible ?? 0)
  );
}

export interface BenchInstance {
  readonly instanceId: string;
  readonly privateDnsName: string;
  readonly zone: string;
}

/** Launches `count` tagged instances in moto, 100 per call. */
export async function launchInstances(ec2: EC2Client, count: number): Promise<BenchInstance[]> {
  const batches: number[] = [];
  for (let left = count; left > 0; left -= 100) batches.push(Math.min(100, left));
  const out = await mapLimit(batches, 2, async (n) => {
    const res = await ec2.send(
      new RunInstancesCommand({
        ImageId: "ami-12c6146b",
        InstanceType: "m5.large",
        MinCount: n,
        MaxCount: n,
        TagSpecifications: [
          {
            ResourceType: "instance",
            Tags: [
              { Key: MANAGED_TAG, Value: "" },
              { Key: "Name", Value: "nthd-bench" },
            ],
          },
        ],
      }),
    );
    return (res.Instances ?? []).map((i) => ({
      instanceId: i.InstanceId ?? "",
      privateDnsName: i.PrivateDnsName ?? "",
      zone: i.Placement?.AvailabilityZone ?? `${BENCH_REGION}a`,
    }));
  });
  const instances = out.flat();
  if (instances.length !== count || instances.some((i) => !i.instanceId || !i.privateDnsName)) {
    throw new Error(`RunInstances returned ${instances.length} usable instances, wanted ${count}`);
  }
  return instances;
}

/** The EventBridge "EC2 Spot Instance Interruption Warning" event for one instance. */
export function spotWarning(instanceId: string, at: Date): string {
  return JSON.stringify({
    version: "0",
    id: randomUUID(),
    "detail-type": "EC2 Spot Instance Interruption Warning",
    source: "aws.ec2",
    account: "123456789012",
    time: at.toISOString().replace(/\.\d{3}Z$/, "Z"),
    region: BENCH_REGION,
    resources: [`arn:aws:ec2:${BENCH_REGION}:123456789012:instance/${instanceId}`],
    detail: { "instance-id": instanceId, "instance-action": "terminate" },
  });
}

/**
 * Puts one warning per instance on the queue as fast as moto takes them
 * (batches of 10, several in flight). Returns each instance's send time: the
 * notice time of the scenario (the instant EventBridge would have delivered).
 */
export async function sendSpotWarnings(
  sqs: SQSClient,
  queueUrl: string,
  instanceIds: readonly string[],
): Promise<Map<string, number>> {
  const sentAt = new Map<string, number>();
  const batches: string[][] = [];
  for (let i = 0; i < instanceIds.length; i += 10) batches.push(instanceIds.slice(i, i + 10));
  const eventTime = new Date();
  await mapLimit(batches, 8, async (ids) => {
    const t = Date.now();
    const out = await sqs.send(
      new SendMessageBatchCommand({
        QueueUrl: queueUrl,
        Entries: ids.map((id, k) => ({ Id: String(k), MessageBody: spotWarning(id, eventTime) })),
      }),
    );
    if ((out.Failed ?? []).length > 0) {
      throw new Error(`SendMessageBatch failed for ${out.Failed?.length} messages`);
    }
    for (const id of ids) sentAt.set(id, t);
  });
  return sentAt;
}
