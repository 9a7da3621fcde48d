/**
 * The AWS side of queue-mode tests, against moto: clients, queues, tagged
 * instances, Auto Scaling groups with lifecycle hooks, and EventBridge rules
 * that send to a queue.
 */
import { after, before } from "node:test";
import {
  type AutoScalingClient,
  CreateAutoScalingGroupCommand,
  CreateLaunchConfigurationCommand,
  DescribeAutoScalingGroupsCommand,
  PutLifecycleHookCommand,
} from "@aws-sdk/client-auto-scaling";
import { type EC2Client, RunInstancesCommand } from "@aws-sdk/client-ec2";
import {
  CreateEventBusCommand,
  EventBridgeClient,
  PutEventsCommand,
  type PutEventsCommandOutput,
  PutRuleCommand,
  PutTargetsCommand,
} from "@aws-sdk/client-eventbridge";
import {
  CreateQueueCommand,
  GetQueueAttributesCommand,
  SendMessageCommand,
  type SQSClient,
} from "@aws-sdk/client-sqs";
import { type AwsClients, createAwsClients } from "../../../src/aws/clients.ts";
import { ground } from "../ground.ts";
import { type MotoServer, startMoto } from "./start.ts";

export const REGION = "us-east-1";
export const ACCOUNT = "123456789012";
export const CREDENTIALS = { accessKeyId: "test", secretAccessKey: "test" };
/** The tag nthd looks for before draining (CHECK_TAG_BEFORE_DRAINING, its default key). */
export const MANAGED_TAG = "aws-node-termination-handler/managed";

export interface MotoAws extends AwsClients {
  readonly url: string;
  readonly eventbridge: EventBridgeClient;
}

/** nthd's own AWS clients, pointed at moto, plus EventBridge (which nthd never calls). */
export function motoClients(url: string): MotoAws {
  const clients = createAwsClients(
    { queueUrl: `${url}/${ACCOUNT}/unused`, awsRegion: REGION, awsEndpoint: url },
    { credentials: CREDENTIALS, maxAttempts: 2 },
  );
  const eventbridge = new EventBridgeClient({
    region: REGION,
    endpoint: url,
    credentials: CREDENTIALS,
  });
  return { ...clients, url, eventbridge };
}

/** The environment that points an nthd process at moto. */
export function motoEnv(url: string): Record<string, string> {
  return {
    AWS_REGION: REGION,
    AWS_ENDPOINT: url,
    AWS_ACCESS_KEY_ID: CREDENTIALS.accessKeyId,
    AWS_SECRET_ACCESS_KEY: CREDENTIALS.secretAccessKey,
  };
}

/** The shared ground's moto when it runs, else one of this process's own. */
async function reachMoto(): Promise<{ url: string; own?: MotoServer }> {
  let url: string | undefined;
  try {
    url = ground().motoUrl;
  } catch {
    // no ground: a moto of our own below
  }
  if (
    url &&
    (await fetch(`${url}/moto-api/lifecycle-actions`).then(
      (r) => r.ok,
      () => false,
    ))
  ) {
    return { url };
  }
  const own = await startMoto();
  return { url: own.url, own };
}

/**
 * Moto for the tests of one file: reached before they run (a moto of the
 * file's own when no ground runs, stopped after them). Read `aws` inside tests.
 */
export function motoForFile(): { readonly aws: MotoAws } {
  let own: MotoServer | undefined;
  let aws: MotoAws | undefined;
  before(async () => {
    const reached = await reachMoto();
    own = reached.own;
    aws = motoClients(reached.url);
  });
  after(async () => {
    await own?.stop();
  });
  return {
    get aws() {
      if (aws === undefined) throw new Error("moto is reached in before(): use it inside tests");
      return aws;
    },
  };
}

/** Messages in the queue, visible or in flight. */
export async function queueDepth(sqs: SQSClient, queueUrl: string): Promise<number> {
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

export async function queueArn(sqs: SQSClient, queueUrl: string): Promise<string> {
  const out = await sqs.send(
    new GetQueueAttributesCommand({ QueueUrl: queueUrl, AttributeNames: ["QueueArn"] }),
  );
  return out.Attributes?.QueueArn as string;
}

/**
 * A queue; with `dlq`, a dead-letter queue it hands a message to after
 * `maxReceiveCount` receives (default 2: on its third receive).
 */
export async function createQueue(
  sqs: SQSClient,
  name: string,
  opts: { dlq?: boolean; maxReceiveCount?: number } = {},
): Promise<{ url: string; dlqUrl?: string }> {
  let dlqUrl: string | undefined;
  const attributes: Record<string, string> = {};
  if (opts.dlq) {
    const dlq = await sqs.send(new CreateQueueCommand({ QueueName: `${name}-dlq` }));
    dlqUrl = dlq.QueueUrl as string;
    attributes.RedrivePolicy = JSON.stringify({
      deadLetterTargetArn: await queueArn(sqs, dlqUrl),
      maxReceiveCount: opts.maxReceiveCount ?? 2,
    });
  }
  const q = await sqs.send(new CreateQueueCommand({ QueueName: name, Attributes: attributes }));
  return { url: q.QueueUrl as string, ...(dlqUrl ? { dlqUrl } : {}) };
}

/** One running instance with these tags; moto gives it a private DNS name. */
export async function runInstance(
  ec2: EC2Client,
  tags: Record<string, string>,
): Promise<{ id: string; dns: string }> {
  const out = await ec2.send(
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

export interface HookSpec {
  readonly name: string;
  readonly transition:
    | "autoscaling:EC2_INSTANCE_TERMINATING"
    | "autoscaling:EC2_INSTANCE_LAUNCHING";
  readonly heartbeatTimeout: number;
  readonly defaultResult: "CONTINUE" | "ABANDON";
}

/**
 * An Auto Scaling group of `size` instances whose tag (MANAGED_TAG) reaches
 * its instances, with these lifecycle hooks. Resolves the instance ids.
 */
export async function createManagedGroup(
  autoscaling: AutoScalingClient,
  name: string,
  size: number,
  hooks: readonly HookSpec[],
): Promise<string[]> {
  await autoscaling.send(
    new CreateLaunchConfigurationCommand({
      LaunchConfigurationName: `lc-${name}`,
      ImageId: "ami-12c6146b",
      InstanceType: "t3.micro",
    }),
  );
  await autoscaling.send(
    new CreateAutoScalingGroupCommand({
      AutoScalingGroupName: name,
      LaunchConfigurationName: `lc-${name}`,
      MinSize: 0,
      MaxSize: size,
      DesiredCapacity: size,
      AvailabilityZones: [`${REGION}a`],
      Tags: [{ Key: MANAGED_TAG, Value: "", PropagateAtLaunch: true }],
    }),
  );
  for (const hook of hooks) {
    await autoscaling.send(
      new PutLifecycleHookCommand({
        AutoScalingGroupName: name,
        LifecycleHookName: hook.name,
        LifecycleTransition: hook.transition,
        HeartbeatTimeout: hook.heartbeatTimeout,
        DefaultResult: hook.defaultResult,
      }),
    );
  }
  const g = await autoscaling.send(
    new DescribeAutoScalingGroupsCommand({ AutoScalingGroupNames: [name] }),
  );
  return (g.AutoScalingGroups?.[0]?.Instances ?? []).map((i) => i.InstanceId as string);
}

const SPOT_WARNING = "EC2 Spot Instance Interruption Warning";

/**
 * An event bus of its own (other tests' events on the default bus never reach
 * the queue) with a rule sending Spot interruption warnings to the queue.
 */
export async function routeSpotWarnings(
  eventbridge: EventBridgeClient,
  opts: { bus: string; rule: string; queueArn: string },
): Promise<void> {
  await eventbridge.send(new CreateEventBusCommand({ Name: opts.bus }));
  await eventbridge.send(
    new PutRuleCommand({
      Name: opts.rule,
      EventBusName: opts.bus,
      EventPattern: JSON.stringify({ source: ["aws.ec2"], "detail-type": [SPOT_WARNING] }),
    }),
  );
  await eventbridge.send(
    new PutTargetsCommand({
      Rule: opts.rule,
      EventBusName: opts.bus,
      Targets: [{ Id: "nthd", Arn: opts.queueArn }],
    }),
  );
}

/** Puts a Spot interruption warning (terminate) for the instance on the bus, as EC2 does. */
export function putSpotWarning(
  eventbridge: EventBridgeClient,
  bus: string,
  instanceId: string,
): Promise<PutEventsCommandOutput> {
  return eventbridge.send(
    new PutEventsCommand({
      Entries: [
        {
          EventBusName: bus,
          Source: "aws.ec2",
          DetailType: SPOT_WARNING,
          Resources: [`arn:aws:ec2:${REGION}:${ACCOUNT}:instance/${instanceId}`],
          Detail: JSON.stringify({ "instance-id": instanceId, "instance-action": "terminate" }),
        },
      ],
    }),
  );
}

export async function sendMessage(sqs: SQSClient, queueUrl: string, body: string): Promise<void> {
  await sqs.send(new SendMessageCommand({ QueueUrl: queueUrl, MessageBody: body }));
}
